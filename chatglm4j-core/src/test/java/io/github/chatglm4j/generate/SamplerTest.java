package io.github.chatglm4j.generate;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The sampler's filters, checked against probabilities worked out by hand. */
class SamplerTest {
    private static final int[] NONE = new int[0];

    @Test
    void temperatureZeroPicksTheLargestLogit() {
        float[] logits = {0.1f, 3f, -2f, 2.9f};
        assertThat(new Sampler(SamplingParams.greedy()).sample(logits, NONE, 0, 0)).isEqualTo(1);
    }

    @Test
    void nanOrInfinityForcesTheReferenceFallbackToken() {
        float[] logits = new float[10];
        logits[7] = Float.NaN;
        assertThat(new Sampler(SamplingParams.greedy()).sample(logits, NONE, 0, 0)).isEqualTo(5);
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOfSeenIds() {
        // token 0: 2.0 / 2 = 1.0 ; token 1: -0.5 * 2 = -1.0 ; token 2 unseen stays 1.5 → argmax becomes 2
        float[] logits = {2.0f, -0.5f, 1.5f};
        int[] context = {0, 1, 0};
        int id = new Sampler(SamplingParams.greedy().withRepetitionPenalty(2f)).sample(logits, context, 3, 3);
        assertThat(id).isEqualTo(2);
        assertThat(logits).containsExactly(1.0f, -1.0f, 1.5f);
    }

    @Test
    void presenceAndFrequencyPenaltiesSubtractPerGeneratedOccurrence() {
        float[] logits = {5f, 4f, 0f};
        int[] generated = {0, 0, 1};
        new Sampler(SamplingParams.greedy().withPenalties(0.5f, 1f)).sample(logits, generated, 3, 0);
        // token 0: 5 - (2·1 + 0.5) = 2.5 ; token 1: 4 - (1 + 0.5) = 2.5
        assertThat(logits).containsExactly(2.5f, 2.5f, 0f);
    }

    @Test
    void topKKeepsOnlyTheKMostLikelyTokens() {
        float[] base = {1f, 4f, 3f, 2f, 0f};
        Map<Integer, Integer> counts = draw(SamplingParams.DEFAULTS.withTemperature(1f).withTopP(1f).withTopK(2), base, 4000);
        assertThat(counts.keySet()).containsOnly(1, 2);
        // p(1) = e^4 / (e^4 + e^3) = 0.731
        assertThat(counts.get(1) / 4000.0).isBetween(0.70, 0.76);
    }

    @Test
    void topPKeepsTheSmallestSetReachingTheMass() {
        // probabilities with temperature 1: ln of 0.5, 0.3, 0.15, 0.05
        float[] base = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.15), (float) Math.log(0.05)};
        // top_p 0.75: 0.5 < 0.75 so keep the 2nd; 0.8 >= 0.75 so stop → {0, 1}
        Map<Integer, Integer> counts = draw(SamplingParams.DEFAULTS.withTemperature(1f).withTopP(0.75f).withTopK(0), base, 4000);
        assertThat(counts.keySet()).containsOnly(0, 1);
        assertThat(counts.get(0) / 4000.0).isBetween(0.59, 0.66); // 0.5 / 0.8 = 0.625
        // top_p 0.85: the first two hold 0.8 < 0.85, so the third is kept too; 0.95 >= 0.85 stops before the fourth
        counts = draw(SamplingParams.DEFAULTS.withTemperature(1f).withTopP(0.85f).withTopK(0), base, 4000);
        assertThat(counts.keySet()).containsOnly(0, 1, 2);
        assertThat(counts.get(2) / 4000.0).isBetween(0.14, 0.20); // 0.15 / 0.95 = 0.158
    }

    @Test
    void lowTemperatureSharpensTheDistribution() {
        float[] base = {1f, 0.5f};
        Map<Integer, Integer> counts = draw(SamplingParams.DEFAULTS.withTemperature(0.1f).withTopP(1f), base, 2000);
        // p(0) = 1 / (1 + e^-5) = 0.9933
        assertThat(counts.getOrDefault(1, 0)).isLessThan(40);
    }

    @Test
    void theSameSeedDrawsTheSameSequence() {
        float[] base = new float[100];
        for (int i = 0; i < base.length; i++) {
            base[i] = (float) Math.sin(i);
        }
        SamplingParams p = SamplingParams.DEFAULTS.withTopP(1f).withTopK(0).withTemperature(1f).withSeed(42);
        Sampler a = new Sampler(p);
        Sampler b = new Sampler(p);
        Sampler c = new Sampler(p.withSeed(43));
        int[] sa = new int[50];
        int[] sb = new int[50];
        int[] sc = new int[50];
        for (int i = 0; i < 50; i++) {
            sa[i] = a.sample(base.clone(), NONE, 0, 0);
            sb[i] = b.sample(base.clone(), NONE, 0, 0);
            sc[i] = c.sample(base.clone(), NONE, 0, 0);
        }
        assertThat(sa).isEqualTo(sb);
        assertThat(Arrays.equals(sa, sc)).as("a different seed gives a different draw").isFalse();
    }

    private static Map<Integer, Integer> draw(SamplingParams p, float[] logits, int n) {
        Sampler s = new Sampler(p.withSeed(7));
        Map<Integer, Integer> counts = new HashMap<>();
        for (int i = 0; i < n; i++) {
            counts.merge(s.sample(logits.clone(), NONE, 0, 0), 1, Integer::sum);
        }
        return counts;
    }
}
