package io.github.chatglm4j.hub;

/**
 * Hears what a pull does, for progress display. Calls come from the downloading thread(s); {@code progress} may
 * come from several threads at once when a file is fetched over parallel connections.
 */
public interface DownloadListener {
    /** Reports nothing. */
    DownloadListener NONE = new DownloadListener() {
    };

    /** Before anything is fetched: the files, the size and where they go. */
    default void planned(DownloadPlan plan) {
    }

    /**
     * Bytes of {@code file} on disk so far (a resumed file starts above zero) and of the whole plan; both count
     * every byte written, so they may go back when a server ignores a resume request and the file restarts.
     */
    default void progress(RemoteFile file, long fileBytes, long planBytes) {
    }

    /** {@code file} is verified and visible under its final name. */
    default void finished(RemoteFile file) {
    }

    /** Something worth a line: a retry, a resume, waiting for another process. */
    default void note(String message) {
    }
}
