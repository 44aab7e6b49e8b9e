package io.github.chatglm4j.server.chat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.generate.Generation;

/**
 * Token counts of one request, as OpenAI reports them. The stop token is not counted (the reference demo counts
 * it); {@code cached_tokens} are prompt tokens reused from a slot's KV cache instead of computed.
 */
public record Usage(int promptTokens, int completionTokens, int cachedTokens) {

    public static Usage of(Generation g) {
        return new Usage(g.promptTokens(), g.ids().length, g.promptTokens() - g.computedTokens());
    }

    public ObjectNode toJson() {
        ObjectNode u = JsonNodeFactory.instance.objectNode();
        u.put("prompt_tokens", promptTokens);
        u.put("completion_tokens", completionTokens);
        u.put("total_tokens", promptTokens + completionTokens);
        u.putObject("prompt_tokens_details").put("cached_tokens", cachedTokens);
        return u;
    }
}
