package io.github.chatglm4j.agent.tool;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.github.chatglm4j.agent.testing.Fixtures;
import io.github.chatglm4j.agent.testing.Reference;
import io.github.chatglm4j.chat.ChatMessage;
import io.github.chatglm4j.chat.PromptBuilder;
import io.github.chatglm4j.chat.PythonJson;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** How tools reach the model: the system prompt, compared with the reference's text and ids. */
class ToolPromptTest {
    @TempDir
    Path temp;

    private static String systemText(ChatMessage m) {
        return m.content() + "\n" + PythonJson.dumps(m.tools());
    }

    @Test
    void registeredToolsRenderExactlyAsTheCompositeDemosRegistry() {
        var tools = new ToolRegistry().add(BuiltinTools.randomNumberGenerator()).add(BuiltinTools.weather(WeatherService.DISABLED));

        assertThat(systemText(tools.systemMessage())).isEqualTo(Reference.FUNCTION_CALL_TXT);
    }

    @Test
    void theThreeBuiltinToolsAreTheReferenceRegistryInItsOrder() {
        ToolRegistry tools = BuiltinTools.registry(WeatherService.DISABLED, BuiltinTools.shellUnavailable("test"));

        assertThat(systemText(tools.systemMessage())).isEqualTo(Reference.BUILTIN_TOOLS_TXT);
    }

    @Test
    void toolsFromAnOpenAiStyleFileAreShownAsTheFlatListOfTheDocumentedFormatTokenForToken() throws IOException {
        JsonNode chat = Fixtures.chats().get(4); // system with tools (track, text-to-speech), then a user query
        JsonNode system = chat.get("history").get(0);
        Path json = temp.resolve("tools.json");
        var wrapped = new ObjectMapper().createArrayNode();
        system.get("tools").forEach(t -> wrapped.addObject().put("type", "function").set("function", t));
        Files.writeString(json, wrapped.toPrettyString());
        Path yaml = temp.resolve("tools.yaml");
        Files.writeString(yaml, new ObjectMapper(new YAMLFactory()).writeValueAsString(system.get("tools")));

        for (Path file : List.of(json, yaml)) {
            ToolRegistry tools = new ToolRegistry().addAll(ToolFiles.read(file));
            ChatMessage message = tools.systemMessage();
            int[] ids = new PromptBuilder(Fixtures.tokenizer()).buildPrompt(List.of(message), ChatMessage.user(chat.get("query").asText()));

            assertThat(message.content()).isEqualTo(system.get("content").asText());
            assertThat(ids).as("%s: the reference build_chat_input ids", file.getFileName()).containsExactly(Fixtures.ints(chat.get("ids")));
        }
    }

    @Test
    void annotatedMethodsBecomeToolsWithPythonTypeNames() {
        ToolRegistry tools = new ToolRegistry().addMethods(new Shop());

        ObjectNode price = (ObjectNode) tools.promptTools().get("price");
        assertThat(price.toString()).isEqualTo("{\"name\":\"price\",\"description\":\"The price of a product\",\"params\":["
                + "{\"name\":\"product\",\"description\":\"Its name\",\"type\":\"str\",\"required\":true},"
                + "{\"name\":\"count\",\"description\":\"How many\",\"type\":\"int\",\"required\":false},"
                + "{\"name\":\"tags\",\"description\":\"Labels\",\"type\":\"list[str]\",\"required\":false}]}");
        assertThat(tools.promptTools().get("stock").get("params").get(0).get("type").asText()).isEqualTo("tuple[int, int]");
    }

    static final class Shop {
        @ToolFunction(description = "The price of a product")
        double price(@Param(name = "product", description = "Its name") String product,
                     @Param(name = "count", description = "How many", required = false) Integer count,
                     @Param(name = "tags", description = "Labels", required = false) List<String> tags) {
            return 2.5 * (count == null ? 1 : count) + (tags == null ? 0 : tags.size());
        }

        @ToolFunction(name = "stock", description = "Items in stock within shelves")
        List<Object> stockOf(@Param(name = "shelves", description = "First and last shelf", type = "tuple[int, int]") List<Integer> shelves) {
            return List.of(shelves.getFirst(), "apples", true);
        }
    }
}
