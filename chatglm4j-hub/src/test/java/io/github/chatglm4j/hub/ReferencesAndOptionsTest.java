package io.github.chatglm4j.hub;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** How references are read, and which environment variables mean what (as huggingface_hub reads them). */
class ReferencesAndOptionsTest {

    @Test
    void referencesNameARepoAndOptionallyARevisionAndAFile() {
        assertThat(ModelRef.parse("THUDM/chatglm3-6b", Source.HUGGING_FACE))
                .isEqualTo(new ModelRef(Source.HUGGING_FACE, "THUDM/chatglm3-6b", "main", null));
        assertThat(ModelRef.parse("THUDM/chatglm3-6b-32k@v1.0", Source.HUGGING_FACE).revision()).isEqualTo("v1.0");
        assertThat(ModelRef.parse("org/repo@refs/pr/1", Source.HUGGING_FACE).revision()).isEqualTo("refs/pr/1");
        assertThat(ModelRef.parse("org/repo/sub/model-q4_0.gguf@abc", Source.HUGGING_FACE))
                .isEqualTo(new ModelRef(Source.HUGGING_FACE, "org/repo", "abc", "sub/model-q4_0.gguf"));
        assertThat(ModelRef.parse("modelscope:ZhipuAI/chatglm3-6b", Source.HUGGING_FACE))
                .isEqualTo(new ModelRef(Source.MODELSCOPE, "ZhipuAI/chatglm3-6b", "master", null));
        assertThat(ModelRef.parse("ZhipuAI/chatglm3-6b", Source.MODELSCOPE).source()).isEqualTo(Source.MODELSCOPE);
        assertThat(ModelRef.parse("hf:THUDM/chatglm3-6b", Source.MODELSCOPE).source()).isEqualTo(Source.HUGGING_FACE);
        assertThat(ModelRef.parse("THUDM/chatglm3-6b@5777b27c1c15d45e5e32daa07bc2d4e6c8f6a0a1", Source.HUGGING_FACE).revisionIsCommit()).isTrue();
        assertThat(ModelRef.parse("modelscope:ZhipuAI/chatglm3-6b@v1", Source.HUGGING_FACE)).hasToString("modelscope:ZhipuAI/chatglm3-6b@v1");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/abs/path", "./rel", "../up/there", "~/models/x", "chatglm3-6b", "org/", "org/repo@", "a/b@../c",
            "org/repo/../x.gguf", "dir/"})
    void thingsThatAreNotReferences(String text) {
        assertThat(ModelRef.looksLikeReference(text)).isFalse();
    }

    @Test
    void theCacheFollowsHuggingfaceHubsVariables(@TempDir Path home) {
        assertThat(HubOptions.fromEnvironment(Map.of(), home).hfCache()).isEqualTo(home.resolve(".cache/huggingface/hub"));
        assertThat(HubOptions.fromEnvironment(Map.of("XDG_CACHE_HOME", "/x"), home).hfCache()).isEqualTo(Path.of("/x/huggingface/hub"));
        assertThat(HubOptions.fromEnvironment(Map.of("HF_HOME", "/h", "XDG_CACHE_HOME", "/x"), home).hfCache()).isEqualTo(Path.of("/h/hub"));
        assertThat(HubOptions.fromEnvironment(Map.of("HF_HUB_CACHE", "/c", "HF_HOME", "/h"), home).hfCache()).isEqualTo(Path.of("/c"));
        assertThat(HubOptions.fromEnvironment(Map.of(), home).modelScopeCache()).isEqualTo(home.resolve(".cache/modelscope/hub"));
        assertThat(HubOptions.fromEnvironment(Map.of("MODELSCOPE_CACHE", "/m"), home).modelScopeCache()).isEqualTo(Path.of("/m"));
    }

    @Test
    void endpointsTokenAndOfflineMode(@TempDir Path home) throws IOException {
        HubOptions defaults = HubOptions.fromEnvironment(Map.of(), home);
        assertThat(defaults.hfEndpoint()).isEqualTo(URI.create("https://huggingface.co"));
        assertThat(defaults.modelScopeEndpoint()).isEqualTo(URI.create("https://www.modelscope.cn"));
        assertThat(defaults.hfToken()).isNull();
        assertThat(defaults.offline()).isFalse();
        assertThat(defaults.connections()).isEqualTo(1);
        assertThat(defaults.idleTimeout()).isEqualTo(Duration.ofSeconds(60));

        HubOptions set = HubOptions.fromEnvironment(Map.of("HF_ENDPOINT", "https://hf-mirror.com/", "HF_TOKEN", "hf_x",
                "HF_HUB_OFFLINE", "1", "MODELSCOPE_DOMAIN", "modelscope.example"), home);
        assertThat(set.hfEndpoint()).isEqualTo(URI.create("https://hf-mirror.com"));
        assertThat(set.hfToken()).isEqualTo("hf_x");
        assertThat(set.offline()).isTrue();
        assertThat(set.modelScopeEndpoint()).isEqualTo(URI.create("https://modelscope.example"));
        assertThat(set.toString()).doesNotContain("hf_x");

        Files.createDirectories(home.resolve(".cache/huggingface"));
        Files.writeString(home.resolve(".cache/huggingface/token"), "hf_saved\n");
        assertThat(HubOptions.fromEnvironment(Map.of(), home).hfToken()).as("the token huggingface-cli login saved").isEqualTo("hf_saved");
        for (String off : new String[]{"0", "false", ""}) {
            assertThat(HubOptions.fromEnvironment(Map.of("HF_HUB_OFFLINE", off), home).offline()).isFalse();
        }
        assertThatThrownBy(() -> HubOptions.fromEnvironment(Map.of("HF_ENDPOINT", "hf-mirror.com"), home))
                .isInstanceOf(HubException.class).hasMessageContaining("is not a URL");
    }

    @Test
    void retryAfterIsSecondsOrADate() {
        assertThat(RetryPolicy.parseRetryAfter("7")).isEqualTo(Duration.ofSeconds(7));
        assertThat(RetryPolicy.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT")).isEqualTo(Duration.ZERO);
        assertThat(RetryPolicy.parseRetryAfter("soon")).isNull();
        RetryPolicy p = RetryPolicy.defaults();
        assertThat(p.delay(1, null)).isEqualTo(Duration.ofSeconds(1));
        assertThat(p.delay(3, null)).isEqualTo(Duration.ofSeconds(4));
        assertThat(p.delay(10, null)).isEqualTo(Duration.ofSeconds(30));
        assertThat(p.delay(1, "3600")).as("capped").isEqualTo(Duration.ofMinutes(5));
        assertThat(BlobTransfer.normalizeEtag("W/\"abc\"")).isEqualTo("abc");
    }
}
