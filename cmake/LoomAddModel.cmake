# loom_add_model(<target> MODEL <file.onnx>
#                [TARGET <soc|file.yaml>] [NAME <name>]
#                [INPUT_SHAPES <name=DIMS>...] [QUANTIZE <mode>]
#                [CALIBRATION_DATA <dir>] [EMBED_WEIGHTS]
#                [OPTIONS <loomc flags>...])
#
# Runs loomc at build time (only when the model, the target file, the options
# or loomc itself change) into ${CMAKE_CURRENT_BINARY_DIR}/<target>.loom/ —
# plan.json, weights.bin and the runtime stubs (runtime/) — and creates the
# static library <target>: the stubs linked with Loom::runtime. Consumers
# include "<name>.h" (class <Name>, default name: the target's) and load the
# plan from the directory in the compile definition <TARGET>_PLAN_DIR (also
# the target property LOOM_PLAN_DIR). With EMBED_WEIGHTS the library also
# holds plan.json and weights.bin (<Name>::loadEmbedded(), no files needed at
# run time). A model that does not compile fails the build with loomc's
# message, which names the model.
if(NOT TARGET Loom::loomc)
  message(FATAL_ERROR "loom_add_model needs loomc: this Loom was built "
                      "without the compiler (LOOM_BUILD_COMPILER=OFF)")
endif()

function(loom_add_model target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "EMBED_WEIGHTS"
                        "MODEL;TARGET;NAME;QUANTIZE;CALIBRATION_DATA"
                        "INPUT_SHAPES;OPTIONS")
  set(where "loom_add_model(${target})")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "${where}: unknown arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_MODEL)
    message(FATAL_ERROR "${where}: MODEL <file.onnx> is required")
  endif()
  get_filename_component(model "${ARG_MODEL}" ABSOLUTE
                         BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(NOT EXISTS "${model}")
    message(FATAL_ERROR "${where}: model '${model}' does not exist")
  endif()
  set(soc ryzen-ai-300)
  set(socDepends)
  if(ARG_TARGET)
    set(soc "${ARG_TARGET}")
    get_filename_component(socFile "${ARG_TARGET}" ABSOLUTE
                           BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    if(EXISTS "${socFile}")
      set(soc "${socFile}")
      set(socDepends "${socFile}")
    endif()
  endif()
  set(name "${target}")
  if(ARG_NAME)
    set(name "${ARG_NAME}")
  endif()
  string(MAKE_C_IDENTIFIER "${name}" base)

  # The devices of the target decide the stub files.
  get_target_property(loomc Loom::loomc IMPORTED_LOCATION)
  if(NOT loomc)
    get_target_property(loomc Loom::loomc IMPORTED_LOCATION_RELEASE)
  endif()
  execute_process(COMMAND "${loomc}" --list-devices "--target=${soc}"
                  OUTPUT_VARIABLE devices ERROR_VARIABLE err
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${where}: ${err}")
  endif()
  string(REGEX REPLACE "\n$" "" devices "${devices}")
  string(REPLACE "\n" ";" devices "${devices}")

  set(out "${CMAKE_CURRENT_BINARY_DIR}/${target}.loom")
  set(sources "${out}/runtime/${base}.cpp")
  foreach(device IN LISTS devices)
    string(MAKE_C_IDENTIFIER "${device}" d)
    list(APPEND sources "${out}/runtime/${base}_${d}.cpp")
  endforeach()
  set(args "${model}" -o "${out}" "--target=${soc}" --emit=plan,stubs
           "--stub-name=${name}" --quiet)
  foreach(shape IN LISTS ARG_INPUT_SHAPES)
    list(APPEND args --input-shape "${shape}")
  endforeach()
  if(ARG_QUANTIZE)
    list(APPEND args "--quantize=${ARG_QUANTIZE}")
  endif()
  if(ARG_CALIBRATION_DATA)
    get_filename_component(cal "${ARG_CALIBRATION_DATA}" ABSOLUTE
                           BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND args "--calibration-data=${cal}")
  endif()
  if(ARG_EMBED_WEIGHTS)
    list(APPEND args --embed-weights)
    list(APPEND sources "${out}/runtime/${base}_embedded.cpp")
  endif()
  list(APPEND args ${ARG_OPTIONS})
  add_custom_command(
    OUTPUT "${out}/plan.json" "${out}/weights.bin"
           "${out}/runtime/${base}.h" ${sources}
    COMMAND Loom::loomc ${args}
    DEPENDS "${model}" ${socDepends} Loom::loomc
    COMMENT "Compiling model ${ARG_MODEL} with loomc (target ${soc})"
    VERBATIM)
  add_library(${target} STATIC ${sources})
  target_include_directories(${target} PUBLIC "${out}/runtime")
  target_link_libraries(${target} PUBLIC Loom::runtime)
  string(MAKE_C_IDENTIFIER "${target}" macro)
  string(TOUPPER "${macro}" macro)
  target_compile_definitions(${target} PUBLIC "${macro}_PLAN_DIR=\"${out}\"")
  set_target_properties(${target} PROPERTIES LOOM_PLAN_DIR "${out}")
endfunction()
