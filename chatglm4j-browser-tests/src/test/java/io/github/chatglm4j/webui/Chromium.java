package io.github.chatglm4j.webui;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Playwright;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Debian's Chromium driven by Playwright for Java. Playwright never downloads a browser here: the executable is
 * {@code /usr/bin/chromium} (installed by scripts/install-test-deps.sh; another path with -Dchatglm.chromium=...),
 * and the flags keep Chromium from reaching for Google's services, which a closed network refuses.
 */
final class Chromium implements AutoCloseable {
    static final List<String> FLAGS = List.of("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--disable-extensions", "--metrics-recording-only", "--mute-audio");

    final Playwright playwright;
    final Browser browser;

    private Chromium(Playwright playwright, Browser browser) {
        this.playwright = playwright;
        this.browser = browser;
    }

    static Path executable() {
        Path path = Path.of(System.getProperty("chatglm.chromium", "/usr/bin/chromium"));
        if (!Files.isExecutable(path)) {
            throw new IllegalStateException("Chromium is not installed at " + path + ": install Debian's chromium package "
                    + "(scripts/install-test-deps.sh does) or pass -Dchatglm.chromium=PATH");
        }
        return path;
    }

    static Chromium launch() {
        Path exe = executable();
        Playwright pw = Playwright.create(new Playwright.CreateOptions().setEnv(Map.of("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")));
        try {
            Browser browser = pw.chromium().launch(new BrowserType.LaunchOptions().setExecutablePath(exe).setHeadless(true)
                    .setArgs(FLAGS));
            return new Chromium(pw, browser);
        } catch (RuntimeException e) {
            pw.close();
            throw e;
        }
    }

    @Override
    public void close() {
        browser.close();
        playwright.close();
    }
}
