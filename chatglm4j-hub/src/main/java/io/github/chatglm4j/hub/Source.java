package io.github.chatglm4j.hub;

/** Where models come from. Each source has its own API and its own cache on disk. */
public enum Source {
    /** huggingface.co or a mirror of its API ({@code HF_ENDPOINT}, e.g. hf-mirror.com); the shared HF cache. */
    HUGGING_FACE("huggingface", "main"),
    /** modelscope.cn; its own cache ({@code MODELSCOPE_CACHE}). */
    MODELSCOPE("modelscope", "master");

    private final String label;
    private final String defaultRevision;

    Source(String label, String defaultRevision) {
        this.label = label;
        this.defaultRevision = defaultRevision;
    }

    /** The name on the command line ({@code --source modelscope}) and in the {@code modelscope:} prefix. */
    public String label() {
        return label;
    }

    /** The branch a reference without {@code @revision} means. */
    public String defaultRevision() {
        return defaultRevision;
    }

    /** Parses {@code huggingface}/{@code hf} or {@code modelscope}/{@code ms}. */
    public static Source parse(String name) {
        return switch (name.strip().toLowerCase(java.util.Locale.ROOT)) {
            case "huggingface", "hf", "hugging-face" -> HUGGING_FACE;
            case "modelscope", "ms" -> MODELSCOPE;
            default -> throw new IllegalArgumentException("unknown source '" + name + "' (expected huggingface or modelscope)");
        };
    }
}
