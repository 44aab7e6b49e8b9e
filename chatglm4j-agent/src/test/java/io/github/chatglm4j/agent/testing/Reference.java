package io.github.chatglm4j.agent.testing;

import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * The reference's prompt format, written out independently of the library's PromptBuilder: {@code build_chat_input}
 * is {@code [gMASK] sop}, then per message its role token, {@code encode(metadata + "\n")} and {@code encode(content)},
 * then {@code <|assistant|>} (ChatGLM3 reference §2.4). A system message's content here already holds its tools JSON.
 */
public final class Reference {
    /** chatglm.cpp's examples/system/function_call.txt: random_number_generator and get_weather in the demo's registry form. */
    public static final String FUNCTION_CALL_TXT = """
            Answer the following questions as best as you can. You have access to the following tools:
            {
                "random_number_generator": {
                    "name": "random_number_generator",
                    "description": "Generates a random number x, s.t. range[0] <= x < range[1]",
                    "params": [
                        {
                            "name": "seed",
                            "description": "The random seed used by the generator",
                            "type": "int",
                            "required": true
                        },
                        {
                            "name": "range",
                            "description": "The range of the generated numbers",
                            "type": "tuple[int, int]",
                            "required": true
                        }
                    ]
                },
                "get_weather": {
                    "name": "get_weather",
                    "description": "Get the current weather for `city_name`",
                    "params": [
                        {
                            "name": "city_name",
                            "description": "The name of the city to be queried",
                            "type": "str",
                            "required": true
                        }
                    ]
                }
            }""";

    /**
     * The composite demo's three tools (tool_registry.py: get_shell after the two above), as its system prompt
     * renders them: {@link #FUNCTION_CALL_TXT} with get_shell's entry appended.
     */
    public static final String BUILTIN_TOOLS_TXT = FUNCTION_CALL_TXT.substring(0, FUNCTION_CALL_TXT.length() - "\n}".length()) + """
            ,
                "get_shell": {
                    "name": "get_shell",
                    "description": "Use shell to run command",
                    "params": [
                        {
                            "name": "query",
                            "description": "The command should run in Linux shell",
                            "type": "str",
                            "required": true
                        }
                    ]
                }
            }""";

    private static final int GMASK = 64790;
    private static final int SOP = 64792;
    private static final int ASSISTANT = 64796;

    private Reference() {
    }

    /** One history entry as the reference keeps it. */
    public record Turn(String role, String metadata, String content) {
        public static Turn of(String role, String content) {
            return new Turn(role, "", content);
        }
    }

    public static int[] buildChatInput(List<Turn> turns) {
        ChatGLMTokenizer tok = Fixtures.tokenizer();
        var ids = new ArrayList<Integer>(List.of(GMASK, SOP));
        for (Turn t : turns) {
            ids.add(switch (t.role()) {
                case "system" -> 64794;
                case "user" -> 64795;
                case "assistant" -> ASSISTANT;
                case "observation" -> 64797;
                default -> throw new IllegalArgumentException(t.role());
            });
            for (int id : tok.encode(t.metadata() + "\n")) {
                ids.add(id);
            }
            for (int id : tok.encode(t.content())) {
                ids.add(id);
            }
        }
        ids.add(ASSISTANT);
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }
}
