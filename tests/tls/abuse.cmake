# Bad input against a TLS server (test_tls_abuse.c): peers that do not speak
# TLS, stall, leave mid-handshake, half-close and read late, or present
# refused certificates, and the worker's memory across 2000 failed
# handshakes. Uses the robust suite's echo app and /proc readers. Included
# by tests/tls/CMakeLists.txt: the tls_certs fixture makes the certificates
# ($NETFW_TEST_CERTS); without it the test makes its own in a temporary
# directory.
netfw_add_test(test_tls_abuse
               SOURCES test_tls_abuse.c abuse_kit.c
                       ${PROJECT_SOURCE_DIR}/tests/robust/robust.c
               LIBS PkgConfig::OPENSSL)
target_include_directories(test_tls_abuse PRIVATE
                           ${PROJECT_SOURCE_DIR}/tests/robust)
target_compile_definitions(test_tls_abuse PRIVATE
                           NETFW_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
if(COMMAND netfw_tls_test_properties)
  netfw_tls_test_properties(test_tls_abuse 240)
  set_property(TEST test_tls_abuse APPEND PROPERTY LABELS robust tls-c)
else()
  set_tests_properties(test_tls_abuse PROPERTIES TIMEOUT 240
                       LABELS "tls;robust")
endif()
