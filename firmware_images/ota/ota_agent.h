/*
 * The OTA agent: receives a new image through AWS IoT Jobs and MQTT
 * streams, hands it to the PAL, and runs the self-test of an image that
 * was just activated. docs/ota_agent.md describes the state machine, the
 * console lines and the configuration.
 *
 * The application initialises the network driver (net_init) and the
 * console, then calls ota_agent_init as early as it can, so that the
 * self-test timer runs even when the new image never reaches the network,
 * and ota_agent_run from the task that owns the network.
 */
#ifndef OTA_AGENT_H
#define OTA_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "ota_config.h"
#include "ota_status.h"

/* What the agent needs to know of the application. */
struct ota_app {
    uint32_t version;        /* OTA_VERSION(major, minor, build) */
    bool (*self_test)(void); /* true when the new image works; NULL passes */
};

/*
 * Checks the configuration, reads the platform image state, and starts
 * the self-test timer when the image waits for its commit. Returns false,
 * after a console line, when the configuration is unusable.
 */
bool ota_agent_init(const struct ota_config *cfg, const struct ota_app *app);

/* Runs the agent for ever in the calling task. */
void ota_agent_run(void) __attribute__((noreturn));

#endif
