package io.github.chatglm4j.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.chatglm4j.ChatGLM;
import io.github.chatglm4j.agent.testing.Fixtures;
import io.github.chatglm4j.generate.GenerationOptions;
import io.github.chatglm4j.generate.SamplingParams;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The real turn generator over a ChatSession, on the tiny fixture model (random weights, real tokenizer). */
class SessionTurnsTest {
    private static final int REPLY_TOKENS = 6;

    @Test
    void theAgentRunsOnAChatSessionAndAnswersWithTheReferenceGreedyText() throws IOException, InterruptedException {
        JsonNode expected = new ObjectMapper().readTree(Fixtures.root().resolve("tiny-chatglm3/expected.json").toFile());
        int[] greedy = Arrays.copyOf(Fixtures.ints(expected.get("greedy_ids")), REPLY_TOKENS);
        String text = Fixtures.tokenizer().decode(greedy);

        try (ChatGLM glm = ChatGLM.load(Fixtures.root().resolve("tiny-chatglm3"))) {
            var session = glm.newChat(List.of());
            var options = GenerationOptions.chat(SamplingParams.greedy(), REPLY_TOKENS);
            var turns = new SessionTurns(session, options);

            // the fixture's prompt is the chat prompt for this query; greedy decoding gives greedy_ids
            AgentTurn turn = new Agent(turns, null, null, AgentOptions.DEFAULTS).send("你好，请介绍一下你自己。", AgentListener.NONE);

            assertThat(turn.outcome()).isEqualTo(AgentTurn.Outcome.LENGTH);
            assertThat(turn.answer()).isEqualTo(text.strip());
            assertThat(turns.history()).isEqualTo(session.history()).hasSize(2);
        }
    }
}
