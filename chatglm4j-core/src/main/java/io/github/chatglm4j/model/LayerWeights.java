package io.github.chatglm4j.model;

import io.github.chatglm4j.tensor.WeightMatrix;

/**
 * The weights of one GLM block, named after {@code modeling_chatglm.py}.
 *
 * @param inputNorm  RMSNorm before attention
 * @param qkv        fused query/key/value projection [qkvSize, hidden]
 * @param qkvBias    its bias [qkvSize]
 * @param dense      attention output projection [hidden, hidden], no bias
 * @param postNorm   RMSNorm before the MLP
 * @param hTo4h      gate rows then up rows [2·ffn, hidden]
 * @param fourHToH   down projection [hidden, ffn]
 */
record LayerWeights(float[] inputNorm, WeightMatrix qkv, float[] qkvBias, WeightMatrix dense,
                    float[] postNorm, WeightMatrix hTo4h, WeightMatrix fourHToH) {
}
