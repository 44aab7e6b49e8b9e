package io.github.chatglm4j.cli;

import io.github.chatglm4j.hub.HubException;
import io.github.chatglm4j.hub.HubOptions;
import io.github.chatglm4j.hub.ModelHub;
import io.github.chatglm4j.hub.ModelRef;
import io.github.chatglm4j.hub.Source;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * Turns what {@code -m} says into a local path: a path that exists is used as it is; otherwise a Hugging Face repo
 * id ({@code THUDM/chatglm3-6b}, {@code ORG/NAME@REV}, {@code ORG/NAME/FILE.gguf}, {@code modelscope:ORG/NAME}) is
 * taken from the cache, downloading what is missing with progress on stderr. Anything else is passed on as a path,
 * for the loader to report.
 */
final class ModelLocation {
    /** The model chat and serve use without {@code -m}. */
    static final String DEFAULT_MODEL = "THUDM/chatglm3-6b";

    private ModelLocation() {
    }

    /**
     * @param file   {@code --file}: one file of the repository (or of a local directory), or null
     * @param source {@code --source}, or null for the default (Hugging Face)
     */
    static Path resolve(String model, String file, Source source, boolean quiet, Io io) {
        Path local = localPath(model);
        if (local != null && Files.exists(local)) {
            return file == null ? local : local.resolve(file);
        }
        if (!ModelRef.looksLikeReference(model)) {
            return local != null ? local : Path.of(model);
        }
        ModelRef ref = reference(model, file, source);
        var progress = new DownloadProgress(io, quiet);
        try {
            return hub(io, source).resolve(ref, progress);
        } catch (HubException e) {
            throw new CliException(e.getMessage(), e);
        }
    }

    /** The reference {@code -m}/{@code --file}/{@code --source} describe. */
    static ModelRef reference(String model, String file, Source source) {
        ModelRef ref;
        try {
            ref = ModelRef.parse(model, source == null ? Source.HUGGING_FACE : source);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        if (file != null) {
            if (ref.file() != null) {
                throw new CliException("both " + model + " and --file name a file; give one");
            }
            ref = ref.withFile(file);
        }
        return ref;
    }

    /** The hub as this process's environment configures it. */
    static ModelHub hub(Io io, Source source) {
        return hub(io, source, 1);
    }

    /** The hub as this process's environment configures it, with parallel ranged connections for large files. */
    static ModelHub hub(Io io, Source source, int connections) {
        Path home = Path.of(System.getProperty("user.home"));
        try {
            HubOptions options = HubOptions.fromEnvironment(io.env(), home).withConnections(connections);
            return ModelHub.create(source == null ? options : options.withSource(source));
        } catch (HubException e) {
            throw new CliException(e.getMessage(), e);
        }
    }

    private static Path localPath(String text) {
        try {
            return Path.of(text.startsWith("~/") ? System.getProperty("user.home") + text.substring(1) : text);
        } catch (InvalidPathException e) {
            return null;
        }
    }

    /** {@code --source huggingface|modelscope}. */
    static final class SourceConverter implements ITypeConverter<Source>, Iterable<String> {
        @Override
        public Source convert(String value) {
            try {
                return Source.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }

        @Override
        public java.util.Iterator<String> iterator() {
            return java.util.List.of("huggingface", "modelscope").iterator();
        }
    }
}
