# Bad input against a TLS server (test_tls_abuse.c): peers that do not speak
# TLS, stall, leave mid-handshake or present refused certificates, and the
# worker's memory across 2000 failed handshakes. Uses the robust suite's
# echo app and /proc readers. Included by tests/tls/CMakeLists.txt, which
# makes the certificates (fixture tls_certs, $NETFW_TLS_CERTS); without it
# the test makes its own in a temporary directory.
netfw_add_test(test_tls_abuse
               SOURCES test_tls_abuse.c abuse_kit.c
                       ${PROJECT_SOURCE_DIR}/tests/robust/robust.c
               LIBS PkgConfig::OPENSSL
               LABELS "tls;robust" TIMEOUT 240)
target_include_directories(test_tls_abuse PRIVATE
                           ${PROJECT_SOURCE_DIR}/tests/robust)
target_compile_definitions(test_tls_abuse PRIVATE
                           NETFW_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
if(DEFINED NETFW_TLS_CERTS_DIR)
  set_tests_properties(test_tls_abuse PROPERTIES
                       FIXTURES_REQUIRED tls_certs
                       ENVIRONMENT NETFW_TLS_CERTS=${NETFW_TLS_CERTS_DIR})
endif()

# BUG: over TLS, the last reply to a half-closed peer is lost when the
# socket took it only in part (the transport's try_write counts the
# plaintext as taken while its ciphertext is still queued below; the
# stream closes at the EOF and the close cancels that write). The case is
# skipped by the test above and runs here once the runtime is fixed:
# remove DISABLED and the KNOWN_BUG skip in test_tls_abuse.c.
add_test(NAME test_tls_abuse_half_close_late_reader
         COMMAND test_tls_abuse "*half_close_late_reader*")
set_tests_properties(test_tls_abuse_half_close_late_reader PROPERTIES
                     DISABLED TRUE TIMEOUT 120 LABELS "tls;robust")
