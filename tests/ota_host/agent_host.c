/*
 * The whole OTA agent on the host: the state machine of firmware_images/ota
 * with its three seams (netlink.h, ota_pal.h, ota_os.h) served over a pipe
 * by tests/ota_host/agent_link.py, which plays the network link, the PAL's
 * storage and verdicts, and the bootloader. One process is one boot.
 *
 * Requests go out on stdout as one line each, "<ms> <WORD> [fields]", and
 * most wait for one answer line on stdin. Binary data travels as hex, "-"
 * when empty. Time is virtual: it moves only when the agent sleeps, by as
 * much as the other side answers (it may skip ahead while nothing waits).
 *
 *   agent_host key=value...   (version, selftest, block, per_request,
 *                              timeout, retries, progress, selftest_ms,
 *                              backoff_min, backoff_max, thing)
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netlink.h"
#include "ota_agent.h"
#include "ota_os.h"
#include "ota_pal.h"

#define FILE_MAX (4u * 1024u * 1024u)

static uint32_t now_ms;
static uint32_t timer_deadline;
static void (*timer_expired)(void);
static char *line;
static size_t line_cap;

/* ---- the pipe --------------------------------------------------------- */

static void send_hex(const void *data, size_t n)
{
    const uint8_t *p = data;

    if (n == 0u) {
        fputs(" -", stdout);
        return;
    }
    fputc(' ', stdout);
    for (size_t i = 0; i < n; i++) {
        fprintf(stdout, "%02x", p[i]);
    }
}

static void request(const char *fmt, ...)
{
    va_list ap;

    fprintf(stdout, "%lu ", (unsigned long)now_ms);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
}

/* Ends the request line and reads the answer line. */
static char *answer(void)
{
    fputc('\n', stdout);
    fflush(stdout);
    if (getline(&line, &line_cap, stdin) < 0) {
        exit(3);
    }
    line[strcspn(line, "\n")] = '\0';

    /* "X" ends the boot: a reset, or the end of the test. */
    if (strcmp(line, "X") == 0) {
        exit(0);
    }
    return line;
}

static long answer_int(void)
{
    return strtol(answer(), NULL, 0);
}

/* Decodes hex text into out; returns the byte count. */
static size_t unhex(const char *text, uint8_t *out, size_t cap)
{
    size_t n = 0;

    if (strcmp(text, "-") == 0) {
        return 0;
    }
    for (; text[0] != '\0' && text[1] != '\0' && n < cap; text += 2) {
        unsigned v;

        (void)sscanf(text, "%2x", &v);
        out[n++] = (uint8_t)v;
    }
    return n;
}

/* ---- ota_os.h --------------------------------------------------------- */

static void check_timer(void)
{
    if (timer_expired != NULL && (int32_t)(now_ms - timer_deadline) >= 0) {
        void (*fn)(void) = timer_expired;

        timer_expired = NULL;
        fn();
    }
}

uint32_t ota_os_now_ms(void)
{
    return now_ms;
}

void ota_os_sleep_ms(uint32_t ms)
{
    request("SLEEP %lu", (unsigned long)ms);
    now_ms += (uint32_t)answer_int();
    check_timer();
}

void ota_os_log(const char *fmt, ...)
{
    va_list ap;

    request("LOG [ota] ");
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
}

bool ota_os_timer_start(uint32_t ms, void (*expired)(void))
{
    timer_deadline = now_ms + ms;
    timer_expired = expired;
    return true;
}

void ota_os_timer_stop(void)
{
    timer_expired = NULL;
}

/* ---- netlink.h -------------------------------------------------------- */

net_status_t net_init(uintptr_t base, net_wait_fn wait)
{
    (void)base;
    (void)wait;
    return NET_OK;
}

net_status_t net_connect(const char *client_id, uint32_t timeout_ms)
{
    (void)timeout_ms;
    request("CONN %s", client_id);
    return (net_status_t)answer_int();
}

net_status_t net_disconnect(void)
{
    request("DISC");
    return (net_status_t)answer_int();
}

net_status_t net_subscribe(const char *topic_filter, uint8_t qos)
{
    request("SUB %u %s", (unsigned)qos, topic_filter);
    return (net_status_t)answer_int();
}

net_status_t net_unsubscribe(const char *topic_filter)
{
    request("UNSUB %s", topic_filter);
    return (net_status_t)answer_int();
}

net_status_t net_publish(const char *topic, const void *payload, size_t len,
                         uint8_t qos)
{
    request("PUB %u %s", (unsigned)qos, topic);
    send_hex(payload, len);
    return (net_status_t)answer_int();
}

/* The answer is "<status>" or "0 <topic> <hex payload>". */
net_status_t net_receive(char *topic, size_t topic_max, void *payload,
                         size_t payload_max, size_t *topic_len,
                         size_t *payload_len)
{
    static uint8_t buf[FILE_MAX];
    char *text;
    char *hex;
    size_t n;

    request("RECV");
    text = answer();
    if (strncmp(text, "0 ", 2) != 0) {
        return (net_status_t)strtol(text, NULL, 0);
    }
    hex = strchr(text + 2, ' ');
    *hex++ = '\0';
    *topic_len = strlen(text + 2);
    n = unhex(hex, buf, sizeof(buf));
    *payload_len = n;
    if (*topic_len >= topic_max || n > payload_max) {
        return NET_ERR_TOO_LONG;
    }
    memcpy(topic, text + 2, *topic_len + 1u);
    memcpy(payload, buf, n);
    return NET_OK;
}

int net_is_connected(void)
{
    request("ISCONN");
    return (int)answer_int();
}

int net_has_message(void)
{
    return 1;
}

uint32_t net_dropped(void)
{
    request("DROPPED");
    return (uint32_t)answer_int();
}

void net_irq_enable(uint32_t mask)
{
    (void)mask;
}

uint32_t net_irq_flags(void)
{
    return 0;
}

/* ---- ota_pal.h: storage here, verdicts on the other side ----------------- */

static uint8_t rx_file[FILE_MAX];
static uint32_t rx_size;
static int file_token;

OtaPalStatus_t otaPal_CreateFileForRx(OtaFileContext_t *const c)
{
    OtaPalStatus_t st;

    request("CREATE %lu %s %s %lu", (unsigned long)c->fileSize,
            (const char *)c->pFilePath, (const char *)c->pCertFilepath,
            (unsigned long)c->serverFileID);
    st = (OtaPalStatus_t)strtoul(answer(), NULL, 0);
    if (st == 0u) {
        if (c->fileSize > FILE_MAX) {
            return OTA_PAL_COMBINE_ERR(OtaPalRxFileTooLarge, 0);
        }
        rx_size = c->fileSize;
        memset(rx_file, 0xFF, rx_size);
        c->pFile = &file_token;
    }
    return st;
}

int16_t otaPal_WriteBlock(OtaFileContext_t *const c, uint32_t offset,
                          uint8_t *const data, uint32_t len)
{
    long written;

    request("WRITE %lu %lu", (unsigned long)offset, (unsigned long)len);
    written = answer_int();
    if (c->pFile != &file_token || offset > rx_size ||
        len > rx_size - offset) {
        return -1;
    }
    if (written > 0) {
        memcpy(rx_file + offset, data, (size_t)written);
    }
    return (int16_t)written;
}

OtaPalStatus_t otaPal_CloseFile(OtaFileContext_t *const c)
{
    request("CLOSE %s", (const char *)c->pCertFilepath);
    send_hex(c->pSignature->data, c->pSignature->size);
    send_hex(rx_file, rx_size);
    c->pFile = NULL;
    return (OtaPalStatus_t)strtoul(answer(), NULL, 0);
}

OtaPalStatus_t otaPal_Abort(OtaFileContext_t *const c)
{
    request("ABORT %d", c->pFile == &file_token ? 1 : 0);
    c->pFile = NULL;
    return (OtaPalStatus_t)strtoul(answer(), NULL, 0);
}

OtaPalStatus_t otaPal_ActivateNewImage(OtaFileContext_t *const c)
{
    (void)c;
    request("ACTIVATE");
    return (OtaPalStatus_t)strtoul(answer(), NULL, 0);
}

OtaPalStatus_t otaPal_ResetDevice(OtaFileContext_t *const c)
{
    (void)c;
    request("RESET");
    return (OtaPalStatus_t)strtoul(answer(), NULL, 0);
}

OtaPalStatus_t otaPal_SetPlatformImageState(OtaFileContext_t *const c,
                                            OtaImageState_t state)
{
    (void)c;
    request("SETSTATE %d", (int)state);
    return (OtaPalStatus_t)strtoul(answer(), NULL, 0);
}

OtaPalImageState_t otaPal_GetPlatformImageState(OtaFileContext_t *const c)
{
    (void)c;
    request("GETSTATE");
    return (OtaPalImageState_t)answer_int();
}

/* ---- the application ---------------------------------------------------- */

static int self_test_result;

static bool app_self_test(void)
{
    request("SELFTEST %d", self_test_result);
    return answer_int() != 0;
}

/* Reads key=value arguments into the configuration. */
static void configure(int argc, char **argv, struct ota_config *cfg,
                      struct ota_app *app)
{
    for (int i = 1; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        uint32_t v;

        if (eq == NULL) {
            continue;
        }
        *eq++ = '\0';
        v = (uint32_t)strtoul(eq, NULL, 0);
        if (strcmp(argv[i], "version") == 0) {
            app->version = v;
        } else if (strcmp(argv[i], "selftest") == 0) {
            self_test_result = (int)v;
        } else if (strcmp(argv[i], "block") == 0) {
            cfg->block_size = v;
        } else if (strcmp(argv[i], "per_request") == 0) {
            cfg->blocks_per_request = v;
        } else if (strcmp(argv[i], "timeout") == 0) {
            cfg->request_timeout_ms = v;
        } else if (strcmp(argv[i], "retries") == 0) {
            cfg->max_retries = v;
        } else if (strcmp(argv[i], "progress") == 0) {
            cfg->progress_every = v;
        } else if (strcmp(argv[i], "selftest_ms") == 0) {
            cfg->self_test_timeout_ms = v;
        } else if (strcmp(argv[i], "backoff_min") == 0) {
            cfg->reconnect_min_ms = v;
        } else if (strcmp(argv[i], "backoff_max") == 0) {
            cfg->reconnect_max_ms = v;
        } else if (strcmp(argv[i], "downgrade") == 0) {
            cfg->allow_downgrade = v != 0u;
        } else if (strcmp(argv[i], "thing") == 0) {
            cfg->thing_name = eq;
        }
    }
}

int main(int argc, char **argv)
{
    struct ota_config cfg = OTA_CONFIG_DEFAULT;
    struct ota_app app = { 0, app_self_test };

    configure(argc, argv, &cfg, &app);
    if (!ota_agent_init(&cfg, &app)) {
        request("LOG agent_host: bad configuration\n");
        fflush(stdout);
        return 0;
    }
    ota_agent_run();
}
