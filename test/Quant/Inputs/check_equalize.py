"""Checks equalize.test's quiet-channels runs from their quantization.json:
AUTO (calibration data) measured conv2 at least 6 dB worse equalized and
left the pair alone, ALL applied it and lost at least 6 dB at the output
against AUTO (conv2's step grows about 10x, -20 dB at conv2), RANDOM
(seeded N(0, 1) inputs) measured a gain of 1 dB or more and applied it."""
import json
import sys


def load(d):
    with open(d + "/quantization.json") as f:
        return json.load(f)


def conv2(q):
    (layer,) = [l for l in q["layers"] if "equalized" in l]
    return layer


auto, all_, random = (load(d) for d in sys.argv[1:4])
a = conv2(auto)
assert a["equalized"] is False, a
assert a["unequalized_sqnr_db"] >= a["equalized_sqnr_db"] + 6, a
assert auto["equalize"] == "auto" and auto["tuning_inputs"] == "calibration-data", auto
assert (auto["equalizable_pairs"], auto["equalized_pairs"]) == (1, 0), auto
assert conv2(all_)["equalized"] is True and "equalized_sqnr_db" not in conv2(all_)
assert all_["equalize"] == "all" and all_["equalized_pairs"] == 1
assert auto["outputs"][0]["sqnr_db"] >= all_["outputs"][0]["sqnr_db"] + 6, \
    (auto["outputs"], all_["outputs"])
r = conv2(random)
assert random["tuning_inputs"] == "random", random
assert r["equalized"] is True and r["equalized_sqnr_db"] >= r["unequalized_sqnr_db"] + 1, r
print("ok")
