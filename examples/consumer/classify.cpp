// Classifies one image with the model compiled by loom_add_model: a
// deterministic test pattern by default, or the raw little-endian f32 values
// of a [1, 3, 32, 32] image given as the first argument. Prints the class
// probabilities, one per line, then the most likely class.
#include "tiny_cnn.h"

#include <cmath>
#include <cstdio>
#include <fstream>

int main(int argc, char **argv) {
  try {
    auto model = TinyCnn::load(TINY_CNN_PLAN_DIR);
    TinyCnnInputs in;
    in.image.resize(1 * 3 * 32 * 32);
    if (argc > 1) {
      std::ifstream f(argv[1], std::ios::binary);
      f.read(reinterpret_cast<char *>(in.image.data()),
             std::streamsize(in.image.size() * sizeof(float)));
      if (!f) {
        std::fprintf(stderr, "classify: cannot read %zu floats from %s\n",
                     in.image.size(), argv[1]);
        return 1;
      }
    } else {
      for (size_t i = 0; i < in.image.size(); ++i)
        in.image[i] = float(std::sin(0.01 * double(i)));
    }
    TinyCnnOutputs out;
    model->run(in, out);
    size_t best = 0;
    for (size_t i = 0; i < out.probs.size(); ++i) {
      std::printf("%.6f\n", out.probs[i]);
      if (out.probs[i] > out.probs[best])
        best = i;
    }
    std::printf("class %zu\n", best);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "classify: %s\n", e.what());
    return 1;
  }
  return 0;
}
