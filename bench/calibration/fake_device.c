/* A fake device kernel library for `loom-profile --calibrate --device gpu
 * --device-library` (bench/calibration/fake_device.sh): every kernel of
 * device `gpu` busy-waits a known function of its work and computes
 * nothing,
 *
 *     FIXED_US + bytes / (GBS * 1e3) µs,   bytes = every operand once,
 *
 * so the fit must come out as dispatch_us = FIXED_US (the intercept every
 * family shares), fixed_us = 0, gbs = GBS and no compute term.
 * Build: cc -O2 -shared -fPIC fake_device.c -o fake_device.so
 */
#include "loom/Runtime/DeviceKernel.h"

#include <time.h>

#define FIXED_US 40.0
#define GBS 2.0

static double nowUs(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static double bytesOf(const LoomTensor *ts, int n) {
  static const int sizes[] = {4, 8, 2, 2, 1, 2, 4, 8, 1, 2, 4, 8, 1};
  double bytes = 0;
  for (int i = 0; i < n; ++i) {
    if (!ts[i].present)
      continue;
    double e = 1;
    for (int d = 0; d < ts[i].rank; ++d)
      e *= (double)ts[i].shape[d];
    bytes += e * sizes[ts[i].dtype];
  }
  return bytes;
}

int loom_gpu_any_kernel(const LoomKernelCall *call) {
  double bytes = bytesOf(call->inputs, call->num_inputs) +
                 bytesOf(call->outputs, call->num_outputs);
  double end = nowUs() + FIXED_US + bytes / (GBS * 1e3);
  while (nowUs() < end) {
  }
  return 0;
}
