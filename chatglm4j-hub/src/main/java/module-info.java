/** Model download: Hugging Face (and mirrors) and ModelScope into their shared caches, resumable and verified. */
module io.github.chatglm4j.hub {
    requires java.net.http;
    requires com.fasterxml.jackson.databind;

    exports io.github.chatglm4j.hub;
}
