/** The {@code chatglm} command: a thin layer over the engine, the agent runtime, the server and the downloader. */
module io.github.chatglm4j.cli {
    requires io.github.chatglm4j.core;
    requires io.github.chatglm4j.agent;
    requires io.github.chatglm4j.server;
    requires io.github.chatglm4j.hub;
    requires info.picocli;
    requires java.management; // bench: the engine threads' CPU time
    requires org.jline.reader;
    requires org.jline.terminal;
    requires org.jline.terminal.ffm;

    // picocli sets the commands' option fields by reflection
    opens io.github.chatglm4j.cli to info.picocli;
}
