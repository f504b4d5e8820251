# LoomRuntimeFastPathTests: the oneDNN fast paths against the reference
# kernels. Included from unittests/Runtime/CMakeLists.txt.
find_package(GTest REQUIRED)
find_package(dnnl CONFIG QUIET)

add_executable(LoomRuntimeFastPathTests ${CMAKE_CURRENT_LIST_DIR}/FastPathTest.cpp)
target_link_libraries(LoomRuntimeFastPathTests PRIVATE LoomRuntime GTest::gtest_main)
target_compile_options(LoomRuntimeFastPathTests PRIVATE -fexceptions -frtti)
if(dnnl_FOUND)
  # Without oneDNN the tests skip themselves.
  target_compile_definitions(LoomRuntimeFastPathTests PRIVATE LOOM_TEST_HAVE_DNNL=1)
endif()
include(GoogleTest)
gtest_discover_tests(LoomRuntimeFastPathTests)
# The same tests with the runtime's own AVX2 kernels in their scalar forms
# (depthwise conv, one-row products, epilogues, sums, binary ops), which an
# AVX2 machine never takes otherwise.
add_test(NAME LoomRuntimeFastPathTests.ScalarForms COMMAND LoomRuntimeFastPathTests)
set_tests_properties(LoomRuntimeFastPathTests.ScalarForms PROPERTIES
                     ENVIRONMENT LOOM_RUNTIME_NO_AVX2=1)
