// Runs the embedded tiny_cnn on x[i] = sin(0.01 i) and prints the
// probabilities and the most likely class (as examples/consumer does).
#include "tiny.h"

#include <cmath>
#include <cstdio>

int main() {
  try {
    auto model = Tiny::loadEmbedded();
    TinyInputs in;
    in.image.resize(3 * 32 * 32);
    for (size_t i = 0; i < in.image.size(); ++i)
      in.image[i] = float(std::sin(0.01 * double(i)));
    TinyOutputs out;
    model->run(in, out);
    size_t best = 0;
    for (size_t i = 0; i < out.probs.size(); ++i) {
      std::printf("%.6f\n", out.probs[i]);
      if (out.probs[i] > out.probs[best])
        best = i;
    }
    std::printf("class %zu\n", best);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "run_embedded: %s\n", e.what());
    return 1;
  }
}
