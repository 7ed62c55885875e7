# ctest install_rules: `cmake --install` into a scratch prefix puts a working bin/headroom there,
# with the docs and example scenarios beside it.
# Usage: cmake -DBUILD_DIR=<build folder> -P install_check.cmake
set(prefix "${BUILD_DIR}/install-check")
file(REMOVE_RECURSE "${prefix}")
execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=DESTDIR ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${rc}):\n${out}${err}")
endif()
foreach(f bin/headroom share/doc/headroom/README.md share/doc/headroom/docs/results.md
          share/doc/headroom/examples/stress.yaml)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "cmake --install did not install ${f}")
  endif()
endforeach()
execute_process(COMMAND "${prefix}/bin/headroom" --version RESULT_VARIABLE rc OUTPUT_VARIABLE version)
if(NOT rc EQUAL 0 OR NOT version MATCHES "^headroom ")
  message(FATAL_ERROR "installed headroom --version: exit ${rc}, printed '${version}'")
endif()
file(REMOVE_RECURSE "${prefix}")
