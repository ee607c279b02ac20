/* The metric families of the contract (docs/observability.md), in the
 * order GET /metrics lists them, with their types: the one list the
 * metrics tests check against. */
#include "metrics_kit.h"

const char *const mk_families[MK_NFAMILIES][2] = {
    {"netfw_connections_accepted_total", "counter"},
    {"netfw_connections_open", "gauge"},
    {"netfw_connections_refused_total", "counter"},
    {"netfw_connections_closed_total", "counter"},
    {"netfw_messages_received_total", "counter"},
    {"netfw_messages_sent_total", "counter"},
    {"netfw_bytes_received_total", "counter"},
    {"netfw_bytes_sent_total", "counter"},
    {"netfw_messages_malformed_total", "counter"},
    {"netfw_messages_unhandled_total", "counter"},
    {"netfw_handler_duration_seconds", "histogram"},
    {"netfw_output_queued_bytes", "gauge"},
    {"netfw_output_queued_bytes_max", "gauge"},
    {"netfw_workers", "gauge"},
    {"netfw_worker_up", "gauge"},
    {"netfw_workers_started_total", "counter"},
    {"netfw_worker_restarts_total", "counter"},
    {"netfw_worker_deaths_total", "counter"},
    {"netfw_bus_published_total", "counter"},
    {"netfw_bus_delivered_total", "counter"},
    {"netfw_bus_dropped_total", "counter"},
};
