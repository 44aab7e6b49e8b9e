package io.github.chatglm4j.server.agent;

/** What a turn of the agent API starts from, when the page does not say otherwise. */
final class TurnRequest {
    /** The composite demo's defaults (sidebar: output length 256, temperature 0.95, top_p 0.8, repetition penalty 1.1). */
    static final int DEFAULT_MAX_TOKENS = 256;
    static final float DEFAULT_TEMPERATURE = 0.95f;
    static final float DEFAULT_TOP_P = 0.8f;
    static final float DEFAULT_REPETITION_PENALTY = 1.1f;
    /** The composite demo's chat-mode system prompt. */
    static final String DEFAULT_SYSTEM_PROMPT = "You are ChatGLM3, a large language model trained by Zhipu.AI. "
            + "Follow the user's instructions carefully. Respond using markdown.";

    private TurnRequest() {
    }
}
