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
# Tests that install Loom and build a consumer project need cmake and ninja.
import shutil
if shutil.which("cmake") and shutil.which("ninja"):
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
