package io.github.chatglm4j.agent.interpreter;

import io.github.chatglm4j.agent.sandbox.Sandbox;
import io.github.chatglm4j.agent.testing.Sandboxes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** One worker, cells run in order as in a notebook: the behaviour ChatGLM3 was trained against (Jupyter). */
class NotebookTest {
    @TempDir
    static Path temp;
    static CodeInterpreter python;
    static Path data;

    @BeforeAll
    static void start() throws InterruptedException {
        Sandbox sandbox = Sandboxes.open();
        data = Sandboxes.dataDir(temp);
        python = CodeInterpreter.start(sandbox, data, InterpreterOptions.DEFAULTS);
    }

    @AfterAll
    static void stop() {
        python.close();
    }

    @Test
    void variablesImportsAndFunctionsSurviveFromCellToCell() throws InterruptedException {
        assertThat(python.run("import math\nradius = 2\ndef area(r):\n    return math.pi * r * r").text()).isEmpty();

        CellResult r = python.run("round(area(radius), 3)");

        assertThat(r.error()).isNull();
        assertThat(r.text()).isEqualTo("12.566\n");
    }

    @Test
    void theLastExpressionIsShownAfterThePrintedOutputLikeJupytersOut() throws InterruptedException {
        CellResult r = python.run("print('first')\nx = [1, 'two']\nx");

        assertThat(r.text()).isEqualTo("first\n[1, 'two']\n");
        assertThat(python.run("x.append(3)").text()).as("a None value is not shown").isEmpty();
        assertThat(python.run("x = 5").text()).as("an assignment is not an expression").isEmpty();
        assertThat(python.run("_").text()).as("_ holds the last shown value").isEqualTo("[1, 'two', 3]\n");
    }

    @Test
    void stdoutAndStderrAreInterleavedAsPrinted() throws InterruptedException {
        CellResult r = python.run("import sys\nprint('a')\nprint('b', file=sys.stderr)\nprint('c')");

        assertThat(r.text()).isEqualTo("a\nb\nc\n");
    }

    @Test
    void anErrorGivesPythonsTracebackWithTheCellsLinesAndNothingOfTheDriver() throws InterruptedException {
        CellResult r = python.run("def inverse(v):\n    return 1 / v\nprint('before')\ninverse(0)");

        assertThat(r.text()).isEqualTo("before\n");
        assertThat(r.error()).startsWith("Traceback (most recent call last):\n")
                .contains("line 4, in <module>\n    inverse(0)\n")
                .contains("line 2, in inverse\n    return 1 / v\n")
                .endsWith("ZeroDivisionError: division by zero\n")
                .doesNotContain("driver.py");
        assertThat(r.output()).isEqualTo(r.text() + r.error());
    }

    @Test
    void aSyntaxErrorIsReportedAndTheWorkerCarriesOn() throws InterruptedException {
        CellResult r = python.run("def broken(:\n    pass");

        assertThat(r.error()).contains("SyntaxError");
        assertThat(python.run("1 + 1").text()).isEqualTo("2\n");
    }

    @Test
    void terminalColourCodesAreRemovedFromTracebacks() throws InterruptedException {
        CellResult r = python.run("raise ValueError('\\x1b[31mred\\x1b[0m alert')");

        assertThat(r.error()).endsWith("ValueError: red alert\n").doesNotContain("\u001b");
    }

    @Test
    void exitAndInputDoNotBreakTheWorker() throws InterruptedException {
        assertThat(python.run("exit(3)").error()).contains("SystemExit: 3");
        assertThat(python.run("input('name? ')").error()).contains("EOFError");
        assertThat(python.run("6 * 7").text()).isEqualTo("42\n");
    }

    @Test
    void numpyAndPandasAreThereAndShowLikeInANotebook() throws InterruptedException {
        CellResult r = python.run("import numpy as np, pandas as pd\n"
                + "df = pd.DataFrame({'n': np.arange(3), 'sq': np.arange(3) ** 2})\ndf");

        assertThat(r.error()).isNull();
        assertThat(r.text()).isEqualTo("   n  sq\n0  0   0\n1  1   1\n2  2   4\n");
    }

    @Test
    void anOpenMatplotlibFigureComesBackAsAPngOfTheRequestedSize() throws InterruptedException, IOException {
        CellResult r = python.run("import matplotlib.pyplot as plt\n"
                + "plt.figure(figsize=(4, 3), dpi=50)\nplt.plot([1, 3, 2])\nplt.title('t')\nplt.show()");

        assertThat(r.error()).isNull();
        assertThat(r.text()).as("plt.show() on the Agg backend warns about nothing").isEmpty();
        assertThat(r.figures()).hasSize(1);
        byte[] png = r.figures().getFirst().png();
        assertThat(png).startsWith(0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n');
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
        assertThat(image).as("ImageIO decodes it").isNotNull();
        assertThat(image.getWidth()).as("4 inches at 50 dpi").isEqualTo(200);
        assertThat(image.getHeight()).as("3 inches at 50 dpi").isEqualTo(150);
        assertThat(python.run("len(plt.get_fignums())").text()).as("figures are closed once returned").isEqualTo("0\n");
    }

    @Test
    void filesWrittenUnderMntDataAreListedAndCanBeReadBack() throws InterruptedException, IOException {
        CellResult r = python.run("import os\nos.makedirs('out', exist_ok=True)\n"
                + "open('/mnt/data/out/table.csv', 'w').write('a,b\\n1,2\\n')\nos.getcwd()");

        assertThat(r.text()).as("cells run in /mnt/data").isEqualTo("'/mnt/data'\n");
        assertThat(r.files()).containsExactly(new DataFile("out/table.csv", 8));
        assertThat(Files.readString(data.resolve("out/table.csv"))).as("on the host, in the conversation's folder")
                .isEqualTo("a,b\n1,2\n");
        assertThat(python.readFile("out/table.csv", 1024)).isEqualTo("a,b\n1,2\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(python.files()).contains(new DataFile("out/table.csv", 8));
        assertThat(python.run("x = 1").files()).as("an unchanged file is not reported again").isEmpty();
    }

    @Test
    void aLinkTheCodeMakesCannotPointTheHostReaderAtHostFiles() throws InterruptedException {
        python.run("import os\nos.symlink('/etc/hostname', '/mnt/data/hostname-link')");

        assertThat(python.files()).as("links are not listed").noneMatch(f -> f.name().equals("hostname-link"));
        assertThatThrownBy(() -> python.readFile("hostname-link", 1024)).hasMessageContaining("No such file");
        assertThatThrownBy(() -> python.readFile("../../etc/passwd", 1024)).isInstanceOf(IllegalArgumentException.class);
        python.run("os.remove('/mnt/data/hostname-link')");
    }
}
