package io.github.chatglm4j.agent.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Finds out whether the sandbox works on this machine, and if not, why and what to install or change. Checks, in
 * order: the programs (bubblewrap, util-linux, Debian's python3), the kernel's user-namespace switches, a real
 * sandbox start, and (for {@code chatglm sandbox check}) the Python modules inside.
 *
 * <pre>{@code
 * SandboxCheck.Report report = SandboxCheck.run(SandboxConfig.DEFAULTS);
 * report.findings().forEach(f -> System.out.println(f.line()));
 * }</pre>
 */
public final class SandboxCheck {
    static final Path PROC_SYS = Path.of("/proc/sys");
    /** The modules the code interpreter promises, and the Debian package of each. */
    static final Map<String, String> MODULES = Map.of("numpy", "python3-numpy", "pandas", "python3-pandas",
            "matplotlib", "python3-matplotlib");
    private static final List<String> MODULE_ORDER = List.of("numpy", "pandas", "matplotlib");
    private static final long PROBE_SECONDS = 120;
    private static final String NAMESPACE_FIX = "user namespaces are blocked here: on a host, allow unprivileged user "
            + "namespaces; in a Docker container, run it with --security-opt seccomp=unconfined --security-opt apparmor=unconfined";

    /**
     * One thing checked.
     *
     * @param ok   whether it is fine
     * @param what what was found, e.g. "bubblewrap: /usr/bin/bwrap (bubblewrap 0.8.0)"
     * @param fix  what to do about it, or null when ok
     */
    public record Finding(boolean ok, String what, String fix) {
        /** "ok    what" or "FAIL  what: fix". */
        public String line() {
            return ok ? "ok    " + what : "FAIL  " + what + (fix == null ? "" : ": " + fix);
        }
    }

    /** All findings, in the order checked; checks that depend on a failed one are left out. */
    public record Report(List<Finding> findings) {
        public Report {
            findings = List.copyOf(findings);
        }

        public boolean ok() {
            return findings.stream().allMatch(Finding::ok);
        }

        /** One line: the first problem and its fix, or that the sandbox works. */
        public String summary() {
            return findings.stream().filter(f -> !f.ok()).findFirst()
                    .map(f -> "the sandbox cannot run: " + f.what() + (f.fix() == null ? "" : " (" + f.fix() + ")"))
                    .orElse("the sandbox works");
        }
    }

    private SandboxCheck() {
    }

    /** Everything, the Python modules included. */
    public static Report run(SandboxConfig config) {
        return run(config, PROC_SYS, true);
    }

    static Report run(SandboxConfig config, Path procSys, boolean modules) {
        var findings = new ArrayList<Finding>();
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            findings.add(new Finding(false, "the sandbox needs Linux (bubblewrap and user namespaces)",
                    "run chatglm on Linux for the code interpreter and get_shell"));
            return new Report(findings);
        }
        boolean root = SandboxUser.jvmIsRoot();
        boolean programs = program(findings, config.bwrap(), "bubblewrap", "sudo apt-get install bubblewrap")
                & program(findings, config.prlimit(), "prlimit", "sudo apt-get install util-linux")
                & (!root || program(findings, config.setpriv(), "setpriv", "sudo apt-get install util-linux"))
                & program(findings, config.python(), "python3", "sudo apt-get install python3");
        boolean namespaces = userNamespaces(findings, procSys);
        if (!programs || !namespaces) {
            return new Report(findings);
        }
        probe(findings, config, root, modules);
        return new Report(findings);
    }

    private static boolean program(List<Finding> findings, Path path, String name, String fix) {
        boolean ok = Files.isRegularFile(path) && Files.isExecutable(path);
        findings.add(ok ? new Finding(true, name + ": " + path, null)
                : new Finding(false, name + " not found at " + path, fix));
        return ok;
    }

    /** The kernel switches that block unprivileged user namespaces, where the kernel has them. */
    private static boolean userNamespaces(List<Finding> findings, Path procSys) {
        String max = read(procSys.resolve("user/max_user_namespaces"));
        String clone = read(procSys.resolve("kernel/unprivileged_userns_clone"));
        String apparmor = read(procSys.resolve("kernel/apparmor_restrict_unprivileged_userns"));
        if ("0".equals(max)) {
            findings.add(new Finding(false, "user namespaces are disabled (user.max_user_namespaces = 0)",
                    "sudo sysctl -w user.max_user_namespaces=10000"));
            return false;
        }
        if ("0".equals(clone)) {
            findings.add(new Finding(false, "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)",
                    "sudo sysctl -w kernel.unprivileged_userns_clone=1"));
            return false;
        }
        if ("1".equals(apparmor)) {
            findings.add(new Finding(false, "AppArmor restricts unprivileged user namespaces "
                    + "(kernel.apparmor_restrict_unprivileged_userns = 1)",
                    "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or give bwrap an AppArmor profile"));
            return false;
        }
        findings.add(new Finding(true, "user namespaces: allowed" + (max == null ? "" : " (at most " + max + ")"), null));
        return true;
    }

    private static void probe(List<Finding> findings, SandboxConfig config, boolean root, boolean modules) {
        String script = """
                import json, sys
                r = {"python": sys.version.split()[0], "modules": {}}
                for m in %s:
                    try:
                        r["modules"][m] = __import__(m).__version__
                    except Exception as e:
                        r["modules"][m] = None
                print(json.dumps(r))
                """.formatted(modules ? "(\"numpy\", \"pandas\", \"matplotlib\")" : "()");
        Path scratch = null;
        try {
            scratch = Files.createTempDirectory("chatglm4j-sandbox-check");
            var sandbox = new Sandbox(config, root);
            SandboxProcess p = sandbox.start(scratch, Map.of(), List.of(config.python().toString(), "-I", "-c", script));
            p.stdin().close();
            CappedText out = CappedText.read(p.stdout(), 64 * 1024, "sandbox-check");
            if (!p.waitFor(TimeUnit.SECONDS.toMillis(PROBE_SECONDS))) {
                p.kill();
                findings.add(new Finding(false, "the sandbox did not finish a trivial Python program in " + PROBE_SECONDS + " s",
                        "check the machine's load, then run 'chatglm sandbox check' again"));
                return;
            }
            int code = p.waitFor();
            out.awaitEnd();
            if (code != 0) {
                String why = firstLine(p.stderrToEnd());
                boolean namespaces = why.contains("namespace") || why.contains("Operation not permitted")
                        || why.contains("setting up uid map");
                findings.add(new Finding(false, "bubblewrap could not start the sandbox (" + (why.isEmpty() ? "exit code " + code : why) + ")",
                        namespaces ? NAMESPACE_FIX : "see bubblewrap's message; the sandbox needs bubblewrap 0.8 or later"));
                return;
            }
            JsonNode r = new ObjectMapper().readTree(out.text());
            findings.add(new Finding(true, "sandbox: starts" + (root ? " (as user nobody, since chatglm runs as root)" : "")
                    + ", no network, read-only system; Python " + r.path("python").asText(), null));
            if (modules) {
                modules(findings, r.path("modules"));
            }
        } catch (SandboxUnavailableException e) {
            findings.add(new Finding(false, e.getMessage(), null));
        } catch (IOException e) {
            findings.add(new Finding(false, "cannot run bubblewrap: " + e.getMessage(), "sudo apt-get install bubblewrap"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            findings.add(new Finding(false, "interrupted while checking the sandbox", null));
        } finally {
            deleteTree(scratch);
        }
    }

    static void modules(List<Finding> findings, JsonNode versions) {
        var missing = new ArrayList<String>();
        var found = new ArrayList<String>();
        for (String m : MODULE_ORDER) {
            JsonNode v = versions.path(m);
            if (v.isTextual()) {
                found.add(m + " " + v.asText());
            } else {
                missing.add(m);
            }
        }
        if (missing.isEmpty()) {
            findings.add(new Finding(true, "Python modules: " + String.join(", ", found), null));
        } else {
            findings.add(new Finding(false, "Python modules missing in the sandbox: " + String.join(", ", missing),
                    "sudo apt-get install " + String.join(" ", missing.stream().map(MODULES::get).toList())));
        }
    }

    private static String read(Path p) {
        if (!Files.isRegularFile(p)) {
            return null;
        }
        return procText(p).strip();
    }

    /**
     * A /proc file's text. They report size 0, and Files.readString trusts the size (it returned the first byte only
     * on JDK 25), so this reads to the end of the stream.
     */
    static String procText(Path p) {
        try (InputStream in = Files.newInputStream(p)) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            return "";
        }
    }

    static String firstLine(String s) {
        String t = s.strip();
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl).strip();
    }

    static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // a leftover scratch folder in the temp directory is harmless
        }
    }
}
