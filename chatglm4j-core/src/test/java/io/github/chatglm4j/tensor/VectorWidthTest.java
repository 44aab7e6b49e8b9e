package io.github.chatglm4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import jdk.incubator.vector.VectorShape;
import org.junit.jupiter.api.Test;

/** The width choice: forced by the property the width-specific test runs set, else the CPU's (512 only with AVX-512). */
class VectorWidthTest {

    @Test
    void aForcedWidthWinsAndTheKernelsUseIt() {
        String forced = System.getProperty("chatglm4j.vector.bits");
        int preferred = VectorShape.preferredShape().vectorBitSize();
        int expected = forced != null ? Integer.parseInt(forced) : preferred >= 512 ? 512 : 256;
        assertThat(VectorWidth.bits()).isEqualTo(expected);
        assertThat(BlockGroups.G).isEqualTo(expected / 16);
        assertThat(BlockGroups.S.vectorBitSize()).isEqualTo(expected);
        assertThat(BlockGroups.FW.length()).isEqualTo(BlockGroups.H);
        assertThat(VectorWidth.describe()).startsWith(expected + "-bit vectors");
    }

    @Test
    void theCpuDecidesUnlessForced() {
        assertThat(VectorWidth.choose(null, 512)).isEqualTo(512);
        assertThat(VectorWidth.choose("", 256)).isEqualTo(256);
        assertThat(VectorWidth.choose(null, 128)).isEqualTo(256);
        assertThat(VectorWidth.choose("512", 256)).isEqualTo(512);
        assertThat(VectorWidth.choose(" 256 ", 512)).isEqualTo(256);
        assertThatThrownBy(() -> VectorWidth.choose("384", 512)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("256 or 512");
    }

    @Test
    void warnsOnlyWhenTheKernelsWouldRunInSoftware() {
        int preferred = VectorShape.preferredShape().vectorBitSize();
        boolean software = preferred < 256 || VectorWidth.bits() > preferred;
        assertThat(VectorWidth.hardwareWarning().isPresent()).isEqualTo(software);
        VectorWidth.hardwareWarning().ifPresent(w -> assertThat(w).contains("software"));
    }
}
