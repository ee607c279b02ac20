/* The calls tests' protocol (calls_proto.h). */
#include "calls_proto.h"

#include <stdbool.h>

static const uint16_t get_returns[] = {1, 4}; /* GetResp, Ack */
static const uint16_t list_returns[] = {3};   /* ListResp */
static const netfw_desc_message msgs[] = {
    {.id = TP_GET,
     .dir = NETFW_DESC_TO_SERVER,
     .body = {.name = "Get"},
     .returns = get_returns,
     .nreturns = 2},
    {.id = TP_GETRESP,
     .dir = NETFW_DESC_TO_CLIENT,
     .is_reply = true,
     .body = {.name = "GetResp"}},
    {.id = TP_LIST,
     .dir = NETFW_DESC_TO_SERVER,
     .body = {.name = "List"},
     .returns = list_returns,
     .nreturns = 1},
    {.id = TP_LISTRESP,
     .dir = NETFW_DESC_TO_CLIENT,
     .is_reply = true,
     .body = {.name = "ListResp"}},
    {.id = TP_ACK,
     .dir = NETFW_DESC_TO_CLIENT,
     .is_reply = true,
     .body = {.name = "Ack"}},
    {.id = TP_LINE, .dir = NETFW_DESC_TO_CLIENT, .body = {.name = "Line"}},
    {.id = TP_SAY, .dir = NETFW_DESC_TO_SERVER, .body = {.name = "Say"}},
};

const netfw_desc test_calls_desc = {
    .abi = NETFW_DESC_ABI, .proto = "calls", .messages = msgs, .nmessages = 7};
