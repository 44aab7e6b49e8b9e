package io.github.chatglm4j.hub;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A model on a hub: {@code [modelscope:|hf:]ORG/NAME[/FILE][@REVISION]}, e.g. {@code THUDM/chatglm3-6b},
 * {@code THUDM/chatglm3-6b-32k@main}, {@code org/repo/model-q4_0.gguf} or {@code modelscope:ZhipuAI/chatglm3-6b}.
 * The revision is everything after the first {@code @} (a branch, tag, {@code refs/pr/1} or a commit hash).
 *
 * <pre>{@code
 * ModelRef ref = ModelRef.parse("THUDM/chatglm3-6b@main", Source.HUGGING_FACE);
 * ref.repo();      // "THUDM/chatglm3-6b"
 * ref.revision();  // "main"
 * }</pre>
 *
 * @param source   where it is
 * @param repo     {@code ORG/NAME}
 * @param revision branch, tag or commit; never null (the source's default branch when not given)
 * @param file     one file in the repository (a GGUF file), or null for the whole checkpoint
 */
public record ModelRef(Source source, String repo, String revision, String file) {
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    public ModelRef {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(repo, "repo");
        Objects.requireNonNull(revision, "revision");
        if (file != null && (file.isEmpty() || file.startsWith("/") || file.contains("..") || file.contains("\\"))) {
            throw new IllegalArgumentException("bad file name in the repository: '" + file + "'");
        }
    }

    /**
     * Parses a reference; {@code defaultSource} applies without a {@code modelscope:}/{@code hf:} prefix.
     *
     * @throws IllegalArgumentException if it is not of the form above
     */
    public static ModelRef parse(String text, Source defaultSource) {
        Source source = defaultSource;
        String rest = text.strip();
        for (String prefix : new String[]{"modelscope:", "ms:"}) {
            if (rest.startsWith(prefix)) {
                source = Source.MODELSCOPE;
                rest = rest.substring(prefix.length());
            }
        }
        for (String prefix : new String[]{"hf:", "huggingface:", "https://huggingface.co/", "hf.co/"}) {
            if (rest.startsWith(prefix)) {
                source = Source.HUGGING_FACE;
                rest = rest.substring(prefix.length());
            }
        }
        String revision = null;
        int at = rest.indexOf('@');
        if (at >= 0) {
            revision = rest.substring(at + 1);
            rest = rest.substring(0, at);
            if (revision.isEmpty() || revision.startsWith("/") || revision.contains("..")) {
                throw new IllegalArgumentException("'" + text + "': empty or bad revision after '@'");
            }
        }
        String[] parts = rest.split("/", 3);
        if (parts.length < 2 || !PART.matcher(parts[0]).matches() || !PART.matcher(parts[1]).matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a repository id (ORG/NAME[/FILE][@REVISION])");
        }
        String file = parts.length == 3 && !parts[2].isEmpty() ? parts[2] : null;
        return new ModelRef(source, parts[0] + "/" + parts[1], revision == null ? source.defaultRevision() : revision, file);
    }

    /** Whether {@code text} has the shape of a reference (used after checking it is not a local path). */
    public static boolean looksLikeReference(String text) {
        if (text.startsWith("/") || text.startsWith(".") || text.startsWith("~") || text.endsWith("/")) {
            return false;
        }
        try {
            parse(text, Source.HUGGING_FACE);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** The same model with one file of it. */
    public ModelRef withFile(String name) {
        return new ModelRef(source, repo, revision, name);
    }

    /** Whether the revision is a full commit hash (then the cache answers without asking the hub). */
    public boolean revisionIsCommit() {
        return COMMIT.matcher(revision).matches();
    }

    /** {@code modelscope:ORG/NAME/FILE@REV} as typed; the prefix and revision only where they are not defaults. */
    @Override
    public String toString() {
        return (source == Source.MODELSCOPE ? "modelscope:" : "") + repo + (file == null ? "" : "/" + file)
                + (revision.equals(source.defaultRevision()) ? "" : "@" + revision);
    }
}
