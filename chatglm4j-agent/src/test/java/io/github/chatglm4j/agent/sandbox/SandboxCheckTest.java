package io.github.chatglm4j.agent.sandbox;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The diagnosis: each way the sandbox can be missing is named with its fix. */
class SandboxCheckTest {
    @TempDir
    Path temp;

    private Path procSys(String file, String value) throws IOException {
        Path p = temp.resolve("proc-sys").resolve(file);
        Files.createDirectories(p.getParent());
        Files.writeString(p, value + "\n");
        return temp.resolve("proc-sys");
    }

    @Test
    void onThisMachineEverythingIsThere() {
        SandboxCheck.Report report = SandboxCheck.run(SandboxConfig.DEFAULTS);

        assertThat(report.ok()).as("%s", report.findings()).isTrue();
        assertThat(report.findings().getLast().what()).startsWith("Python modules: numpy ");
        assertThat(report.summary()).isEqualTo("the sandbox works");
    }

    @Test
    void aMissingBubblewrapIsNamedWithTheAptPackage() {
        SandboxCheck.Report report = SandboxCheck.run(SandboxConfig.DEFAULTS.withBwrap(temp.resolve("bwrap")));

        assertThat(report.ok()).isFalse();
        assertThat(report.summary()).isEqualTo("the sandbox cannot run: bubblewrap not found at " + temp.resolve("bwrap")
                + " (sudo apt-get install bubblewrap)");
        assertThatThrownBy(() -> Sandbox.open(SandboxConfig.DEFAULTS.withBwrap(temp.resolve("bwrap"))))
                .isInstanceOf(SandboxUnavailableException.class).hasMessage(report.summary());
    }

    @Test
    void aMissingPythonIsNamedWithTheAptPackage() {
        SandboxCheck.Report report = SandboxCheck.run(SandboxConfig.DEFAULTS.withPython(Path.of("/usr/bin/python3-nonexistent")));

        assertThat(report.findings()).extracting(SandboxCheck.Finding::line)
                .contains("FAIL  python3 not found at /usr/bin/python3-nonexistent: sudo apt-get install python3");
    }

    @Test
    void userNamespacesSwitchedOffInTheKernelAreDiagnosedWithTheSysctlThatEnablesThem() throws IOException {
        var cases = List.of(
                List.of("user/max_user_namespaces", "0", "FAIL  user namespaces are disabled (user.max_user_namespaces = 0): "
                        + "sudo sysctl -w user.max_user_namespaces=10000"),
                List.of("kernel/unprivileged_userns_clone", "0", "FAIL  unprivileged user namespaces are disabled "
                        + "(kernel.unprivileged_userns_clone = 0): sudo sysctl -w kernel.unprivileged_userns_clone=1"),
                List.of("kernel/apparmor_restrict_unprivileged_userns", "1", "FAIL  AppArmor restricts unprivileged user "
                        + "namespaces (kernel.apparmor_restrict_unprivileged_userns = 1): sudo sysctl -w "
                        + "kernel.apparmor_restrict_unprivileged_userns=0, or give bwrap an AppArmor profile"));
        for (List<String> c : cases) {
            SandboxCheck.deleteTree(temp.resolve("proc-sys"));

            SandboxCheck.Report report = SandboxCheck.run(SandboxConfig.DEFAULTS, procSys(c.get(0), c.get(1)), true);

            assertThat(report.ok()).isFalse();
            assertThat(report.findings().getLast().line()).isEqualTo(c.get(2));
        }
    }

    @Test
    void missingPythonModulesAreNamedWithTheirDebianPackages() throws IOException {
        var findings = new ArrayList<SandboxCheck.Finding>();

        SandboxCheck.modules(findings, new ObjectMapper().readTree("{\"numpy\": \"1.24.2\", \"pandas\": null, \"matplotlib\": null}"));

        assertThat(findings).extracting(SandboxCheck.Finding::line).containsExactly("FAIL  Python modules missing in the "
                + "sandbox: pandas, matplotlib: sudo apt-get install python3-pandas python3-matplotlib");
    }

    @Test
    void asRootTheDataFolderMustBeReachableByNobody() throws IOException {
        Sandbox sandbox = Sandbox.open(SandboxConfig.DEFAULTS);
        Path closed = Files.createDirectory(temp.resolve("closed"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path data = closed.resolve("data");

        if (sandbox.runsAsNobody()) {
            assertThatThrownBy(() -> sandbox.prepareDataDir(data)).isInstanceOf(SandboxUnavailableException.class)
                    .hasMessage("the sandbox runs as user nobody (uid 65534) because chatglm runs as root, and nobody cannot "
                            + "reach " + data.toRealPath() + ": " + closed.toRealPath() + " is not searchable by others (chmod o+x "
                            + closed.toRealPath() + ", or use a folder under /tmp)");
        } else {
            sandbox.prepareDataDir(data);
            assertThat(data).isDirectory();
        }
    }
}
