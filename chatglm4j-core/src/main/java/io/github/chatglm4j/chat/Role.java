package io.github.chatglm4j.chat;

import java.util.Locale;

/** The four roles of the ChatGLM3 protocol, each announced in a prompt by its own special token. */
public enum Role {
    SYSTEM("<|system|>", 64794),
    USER("<|user|>", 64795),
    ASSISTANT("<|assistant|>", 64796),
    OBSERVATION("<|observation|>", 64797);

    private final String token;
    private final int tokenId;

    Role(String token, int tokenId) {
        this.token = token;
        this.tokenId = tokenId;
    }

    /** The special token string, e.g. {@code <|user|>}. */
    public String token() {
        return token;
    }

    /** The special token id, e.g. 64795 for {@code <|user|>}. */
    public int tokenId() {
        return tokenId;
    }

    /** The lower-case name used in ChatGLM3 histories ("system", "user", "assistant", "observation"). */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses a history role name; throws {@link IllegalArgumentException} naming the accepted values. */
    public static Role fromWireName(String name) {
        for (Role r : values()) {
            if (r.wireName().equals(name)) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown role '" + name + "' (expected system, user, assistant or observation)");
    }
}
