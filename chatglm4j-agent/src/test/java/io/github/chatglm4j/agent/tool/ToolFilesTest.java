package io.github.chatglm4j.agent.tool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ToolFilesTest {
    @TempDir
    Path temp;

    private Path file(String name, String content) throws IOException {
        return Files.writeString(temp.resolve(name), content);
    }

    @Test
    void theCompositeDemosYamlExampleIsReadWithItsParameters() throws IOException {
        // the composite demo's manual-mode example tool, as yaml.safe_dump writes it
        Path yaml = file("tools.yml", """
                - name: get_current_weather
                  description: Get the current weather in a given location
                  parameters:
                    type: object
                    properties:
                      location:
                        type: string
                        description: The city and state, e.g. San Francisco, CA
                      unit:
                        type: string
                        enum:
                        - celsius
                        - fahrenheit
                    required:
                    - location
                """);

        List<Tool> tools = ToolFiles.read(yaml);

        assertThat(tools).hasSize(1);
        Tool t = tools.getFirst();
        assertThat(t.name()).isEqualTo("get_current_weather");
        assertThat(t.openAiStyle()).isTrue();
        assertThat(t.parameters()).containsExactly(
                new ToolParameter("location", "The city and state, e.g. San Francisco, CA", "string", true),
                new ToolParameter("unit", "", "string", false));
        assertThat(t.definition().fieldNames()).toIterable().containsExactly("name", "description", "parameters");
    }

    @Test
    void anObjectWithAToolsListAndTheOpenAiWrapperAreAccepted() throws IOException {
        Path json = file("tools.json", """
                {"tools": [{"type": "function", "function": {"name": "a", "description": "first", "strict": true}},
                           {"name": "b"}]}""");

        List<Tool> tools = ToolFiles.read(json);

        assertThat(tools).extracting(Tool::name).containsExactly("a", "b");
        assertThat(tools.getFirst().definition().toString()).as("only the documented fields reach the prompt")
                .isEqualTo("{\"name\":\"a\",\"description\":\"first\"}");
    }

    @Test
    void mistakesAreReportedWithTheFileAndThePlace() throws IOException {
        assertThatThrownBy(() -> ToolFiles.read(file("a.json", "[{\"name\": \"x\"}, {\"description\": \"y\"}]")))
                .hasMessageEndingWith("a.json: [1]: the tool needs a \"name\" string");
        assertThatThrownBy(() -> ToolFiles.read(file("b.json", "[{\"name\": \"x\"}, {\"name\": \"x\"}]")))
                .hasMessageEndingWith("b.json: [1]: the tool name 'x' appears twice");
        assertThatThrownBy(() -> ToolFiles.read(file("c.json", "{\"tools\": [{\"function\": {\"name\": \"x\", \"parameters\": 3}}]}")))
                .hasMessageEndingWith("c.json: tools[0].function: \"parameters\" must be a JSON schema object");
        assertThatThrownBy(() -> ToolFiles.read(file("d.yaml", "- name: [unclosed")))
                .hasMessageContaining("d.yaml: not valid YAML");
        assertThatThrownBy(() -> ToolFiles.read(file("e.json", "[]"))).hasMessageEndingWith("e.json: expected a list of tools (or {\"tools\": [...]})");
        assertThatThrownBy(() -> ToolFiles.read(temp.resolve("missing.json"))).isInstanceOf(NoSuchFileException.class);
    }

    @Test
    void textIsReadAsJsonOrYamlByItsFirstCharacter() {
        List<Tool> yaml = ToolFiles.parse("""
                - name: get_current_weather
                  parameters:
                    type: object
                    properties:
                      location: {type: string}
                    required: [location]
                """, "tools");
        List<Tool> json = ToolFiles.parse("  [{\"name\": \"get_current_weather\", \"parameters\": {\"type\": \"object\", "
                + "\"properties\": {\"location\": {\"type\": \"string\"}}, \"required\": [\"location\"]}}]", "tools");

        assertThat(yaml).extracting(Tool::definition).isEqualTo(json.stream().map(Tool::definition).toList());
        assertThat(yaml.getFirst().parameters()).containsExactly(new ToolParameter("location", "", "string", true));
        assertThatThrownBy(() -> ToolFiles.parse("{\"name\": ", "tools.definitions")).hasMessageStartingWith("tools.definitions: not valid JSON: ");
        assertThatThrownBy(() -> ToolFiles.parse("- name: [unclosed", "tools.definitions")).hasMessageStartingWith("tools.definitions: not valid YAML: ");
        assertThatThrownBy(() -> ToolFiles.parse("", "tools.definitions"))
                .hasMessage("tools.definitions: expected a list of tools (or {\"tools\": [...]})");
    }
}
