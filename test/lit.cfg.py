# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "LOOM"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".onnxtext", ".test"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.loom_obj_root, "test")

config.substitutions.append(("%python", "/usr/bin/python3"))
config.substitutions.append(("%src", config.loom_src_root))
config.substitutions.append(("%loom_build", config.loom_obj_root))
# Tests that install Loom and build a consumer project need cmake and ninja,
# and a build without sanitizers: a consumer of the instrumented libraries
# would need the same sanitizer runtime, which its system toolchain lacks.
import shutil
if shutil.which("cmake") and shutil.which("ninja") and \
        not getattr(config, "loom_sanitize", False):
    config.available_features.add("cmake-install")
llvm_config.with_system_environment(["HOME", "TMPDIR"])
llvm_config.use_default_substitutions()
tool_dirs = [config.loom_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(["loom-opt", "loom-translate", "loomc", "loom-run", "loom-profile"], tool_dirs)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.loom_tools_dir, append_path=True)
# The report tests open report.html in headless Chromium (Debian's
# `chromium`, installed by scripts/install-deps.sh); without it they are
# skipped.
if os.access("/usr/bin/chromium", os.X_OK):
    config.available_features.add("chromium")
    config.substitutions.append(
        ("%chromium-dump-dom",
         "/usr/bin/chromium --headless=new --no-sandbox --disable-gpu "
         "--virtual-time-budget=5000 --dump-dom"))
if os.path.isdir("/usr/share/libonnx-testdata/data/node"):
    config.available_features.add("onnx-testdata")
# The real-model corpus (bench/models/real): its reference outputs come from
# ONNX Runtime (bench/ort: node + onnxruntime-node, installed by
# bench/ort/setup.sh from the npm registry), and its PyTorch models need
# Debian's python3-torch, python3-torchvision and python3-torchaudio. Neither
# is in scripts/install-deps.sh (torch is ~630 MB installed), so both
# features are optional and the tests that need them are UNSUPPORTED without.
import subprocess
if shutil.which("node") and os.path.isdir(
        os.path.join(config.loom_src_root, "bench", "ort", "node_modules", "onnxruntime-node")):
    config.available_features.add("onnxruntime")
if subprocess.run(["/usr/bin/python3", "-c",
                   "import importlib.util as u, sys; sys.exit(0 if all(u.find_spec(m) for m in "
                   "('torch', 'torchvision', 'torchaudio')) else 1)"],
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
    config.available_features.add("torch")
