/*
 * ota_app: the demo application of the OTA agent, laid out as the porting
 * guide of the AWS OTA library describes a first port.
 *
 *   1. Print the version compiled in (APP_VERSION_MAJOR/MINOR/BUILD).
 *   2. Start the OTA agent's boot checks, so that a new image in self-test
 *      is timed even if it never reaches the network.
 *   3. MQTT hello world: connect, subscribe to a test topic, publish
 *      "hello world", receive it back and print it.
 *   4. Run the OTA agent for ever.
 *
 * The agent calls back into app_self_test when a new image runs for the
 * first time. Build flags for the negative scenarios:
 *   APP_SELFTEST_FAIL  the self-test fails, so the new image is rejected;
 *   APP_NO_NETWORK     the image never connects, so its self-test timer
 *                      expires and the bootloader reverts it.
 */
#include <stdbool.h>
#include <string.h>

#include "FreeRTOS.h"
#include "console.h"
#include "netlink.h"
#include "ota_agent.h"
#include "ota_pal_port.h"
#include "ota_text.h"
#include "semihost.h"
#include "task.h"

#ifndef APP_VERSION_MAJOR
#define APP_VERSION_MAJOR 1
#endif
#ifndef APP_VERSION_MINOR
#define APP_VERSION_MINOR 0
#endif
#ifndef APP_VERSION_BUILD
#define APP_VERSION_BUILD 0
#endif

#define APP_VERSION \
    OTA_VERSION(APP_VERSION_MAJOR, APP_VERSION_MINOR, APP_VERSION_BUILD)

#ifdef __ARM_FP
#define CORE_NAME "cortex-m4f"
#else
#define CORE_NAME "cortex-m3"
#endif

/* The network link module of the reference board. */
#ifndef APP_NETLINK_BASE
#define APP_NETLINK_BASE 0x40030000u
#endif

#define OTA_TASK_WORDS 2048u
#define OTA_TASK_PRIORITY 2u
#define HELLO_WAIT_MS 2000u
#define HELLO_TEXT "hello world"
#define TOPIC_MAX 160u

static struct ota_config app_config = OTA_CONFIG_DEFAULT;

/* Reads an unsigned decimal number; *end is set past its last digit. */
static uint32_t parse_number(const char *s, const char **end)
{
    uint32_t v = 0;

    while (*s >= '0' && *s <= '9')
        v = v * 10u + (uint32_t)(*s++ - '0');
    *end = s;
    return v;
}

/* Applies one "key=value" setting of the command line, if it is known. */
static void apply_setting(const char *key, size_t len, uint32_t value)
{
    if (len == 10 && memcmp(key, "block_size", len) == 0)
        app_config.block_size = value;
    else if (len == 18 && memcmp(key, "blocks_per_request", len) == 0)
        app_config.blocks_per_request = value;
    else if (len == 15 && memcmp(key, "request_timeout", len) == 0)
        app_config.request_timeout_ms = value * 1000u;
    else
        console_printf("[app] unknown setting %.*s ignored\n", (int)len, key);
}

/*
 * Agent settings from the host: a test bench or the emulator passes
 * "block_size=N blocks_per_request=N request_timeout=S" as the semihosting
 * command line, as a debugger would. No command line keeps the defaults.
 */
static void read_settings(void)
{
    static char line[128];
    const char *p = line;

    if (semihost_get_cmdline(line, sizeof line) != 0)
        return;
    while (*p) {
        const char *key = p;
        while (*p && *p != '=' && *p != ' ')
            p++;
        if (*p == '=') {
            size_t len = (size_t)(p - key);
            apply_setting(key, len, parse_number(p + 1, &p));
        }
        while (*p && *p != ' ')
            p++;
        while (*p == ' ')
            p++;
    }
}

/* The network driver sleeps a tick between polls of the module. */
static void net_wait(void)
{
    vTaskDelay(1);
}

/*
 * The PAL waits for the flash controller and the crypto engine here; a
 * sleeping task lets the emulator skip ahead instead of polling.
 */
void ota_pal_idle(void)
{
    if (xTaskGetSchedulerState() == taskSCHEDULER_RUNNING) {
        vTaskDelay(1);
    }
}

/* "<thing>/<suffix>", the topics of the demo itself. */
static void app_topic(char *buf, const char *suffix)
{
    struct ota_text t;

    ota_text_init(&t, buf, TOPIC_MAX);
    ota_text_str(&t, app_config.thing_name);
    ota_text_str(&t, "/");
    ota_text_str(&t, suffix);
}

#ifndef APP_NO_NETWORK
/* Waits for the echo of the hello message on topic. */
static bool hello_receive(const char *topic)
{
    static char rx_topic[TOPIC_MAX];
    static char payload[64];
    TickType_t start = xTaskGetTickCount();

    while (xTaskGetTickCount() - start < pdMS_TO_TICKS(HELLO_WAIT_MS)) {
        size_t tlen;
        size_t plen;
        net_status_t st = net_receive(rx_topic, sizeof(rx_topic), payload,
                                      sizeof(payload) - 1u, &tlen, &plen);

        if (st == NET_OK && strcmp(rx_topic, topic) == 0) {
            payload[plen] = '\0';
            console_printf("[app] received on %s: %s\n", rx_topic, payload);
            return true;
        }
        if (st == NET_ERR_NO_MESSAGE) {
            vTaskDelay(1);
        }
    }
    console_puts("[app] hello world: no echo received");
    return false;
}

/* The MQTT hello world of the porting guide. */
static bool hello_world(void)
{
    char topic[TOPIC_MAX];
    net_status_t st = net_connect(app_config.thing_name,
                                  app_config.connect_timeout_ms);
    bool ok;

    if (st != NET_OK) {
        console_printf("[app] connect failed (net error %d)\n", (int)st);
        return false;
    }
    console_printf("[app] connected as %s\n", app_config.thing_name);
    app_topic(topic, "hello");
    st = net_subscribe(topic, 1);
    if (st == NET_OK) {
        st = net_publish(topic, HELLO_TEXT, strlen(HELLO_TEXT), 1);
    }
    if (st != NET_OK) {
        console_printf("[app] hello world failed (net error %d)\n", (int)st);
        return false;
    }
    ok = hello_receive(topic);
    (void)net_unsubscribe(topic);
    return ok;
}
#endif

/* The self-test of a new image: it must reach the network. */
#ifdef APP_SELFTEST_FAIL
static bool app_self_test(void)
{
    console_puts("[app] self-test: failing on purpose (APP_SELFTEST_FAIL)");
    return false;
}
#else
static bool app_self_test(void)
{
    char topic[TOPIC_MAX];
    net_status_t st;

    if (!net_is_connected()) {
        console_puts("[app] self-test failed: no network connection");
        return false;
    }
    app_topic(topic, "selftest");
    st = net_publish(topic, "ok", 2, 1);
    if (st != NET_OK) {
        console_printf("[app] self-test failed: publish (net error %d)\n",
                       (int)st);
        return false;
    }
    console_puts("[app] self-test passed: the network is reachable");
    return true;
}
#endif

static void ota_demo_task(void *arg)
{
    static const struct ota_app app = { APP_VERSION, app_self_test };
    net_status_t st;

    (void)arg;
    st = net_init(APP_NETLINK_BASE, net_wait);
    if (st != NET_OK) {
        console_printf("[app] no network link at 0x%08lx (net error %d)\n",
                       (unsigned long)APP_NETLINK_BASE, (int)st);
    }
    if (!ota_agent_init(&app_config, &app)) {
        semihost_exit(EXIT_TEST_FAILED);
    }
#ifdef APP_NO_NETWORK
    console_puts("[app] built with APP_NO_NETWORK: never connecting");
    for (;;) {
        vTaskDelay(pdMS_TO_TICKS(1000));
    }
#else
    if (hello_world()) {
        console_puts("[app] hello world done");
    }
    console_puts("[app] starting the OTA agent");
    ota_agent_run();
#endif
}

int main(void)
{
    read_settings();
    console_printf("[app] ota_app %u.%u.%u on " CORE_NAME ", thing %s\n",
                   (unsigned)APP_VERSION_MAJOR, (unsigned)APP_VERSION_MINOR,
                   (unsigned)APP_VERSION_BUILD, app_config.thing_name);
    xTaskCreate(ota_demo_task, "ota", OTA_TASK_WORDS, NULL,
                OTA_TASK_PRIORITY, NULL);
    vTaskStartScheduler();
    return EXIT_TEST_FAILED;
}
