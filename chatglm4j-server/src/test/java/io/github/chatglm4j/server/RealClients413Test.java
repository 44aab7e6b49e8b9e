package io.github.chatglm4j.server;

import io.github.chatglm4j.testing.ScriptedModel;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A body over the limit (8 MiB by default) gets a 413 that real clients can read (issue 10, item 4): Python's and
 * Node's clients send the whole body before they read, so a server that answers and closes early resets them. Each
 * client sends a 9 MiB body three times and must read the 413 and OpenAI's error every time.
 */
class RealClients413Test {
    static Harness h;

    @BeforeAll
    static void start() {
        h = new Harness(ScriptedModel.replying(256, ScriptedModel.fixed(Harness.textReply("Hi", ChatGLMTokenizer.EOS))), 1, 4,
                ServerOptions.local(0));
    }

    @AfterAll
    static void stop() {
        h.close();
    }

    static final String PYTHON = """
            import http.client, json, sys
            body = b'{"messages": [{"role": "user", "content": "' + b'x' * (9 << 20) + b'"}]}'
            for _ in range(3):
                c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]))
                c.request('POST', '/v1/chat/completions', body=body, headers={'Content-Type': 'application/json'})
                r = c.getresponse()
                print(r.status, json.loads(r.read())['error']['code'])
                c.close()
            """;

    static final String NODE = """
            const http = require('http');
            const body = '{"messages": [{"role": "user", "content": "' + 'x'.repeat(9 << 20) + '"}]}';
            async function once() {
              return new Promise((resolve, reject) => {
                const req = http.request({host: '127.0.0.1', port: Number(process.argv[1]), path: '/v1/chat/completions',
                    method: 'POST', headers: {'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body)}}, res => {
                  let data = '';
                  res.on('data', d => data += d);
                  res.on('end', () => resolve(res.statusCode + ' ' + JSON.parse(data).error.code));
                });
                req.on('error', reject);
                req.end(body);
              });
            }
            (async () => { for (let i = 0; i < 3; i++) console.log(await once()); })().catch(e => { console.log('error ' + e.code); process.exit(1); });
            """;

    @Test
    void pythonReadsThe413() throws Exception {
        assertThat(run(List.of("python3", "-c", PYTHON, Integer.toString(h.server.port()))))
                .isEqualTo("413 request_too_large\n".repeat(3));
    }

    @Test
    void nodeReadsThe413() throws Exception {
        assertThat(run(List.of("node", "-e", NODE, Integer.toString(h.server.port()))))
                .isEqualTo("413 request_too_large\n".repeat(3));
    }

    static String run(List<String> command) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError(command.getFirst() + " is needed by this test (scripts/install-test-deps.sh installs it)", e);
        }
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }
}
