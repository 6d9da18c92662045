/*
 * Parsing of OTA job messages (ota_jobdoc.h). Field names and which of
 * them are required follow the job document that AWS IoT OTA's
 * CreateOTAUpdate writes (see docs/cloud.md, "OTA jobs").
 */
#include "ota_jobdoc.h"

#include <string.h>

#include "ota_base64.h"
#include "ota_json.h"

#define SIG_PREFIX "sig-"

/* Parses the whole text and returns its top-level object. */
static enum ota_job_status parse_root(const char *text, size_t len,
                                      struct ota_json *root)
{
    if (ota_json_parse(text, len, root) != OTA_JSON_OK ||
        ota_json_type(root) != OTA_JSON_OBJECT) {
        return OTA_JOB_BAD_JSON;
    }
    return OTA_JOB_OK;
}

/* Job ids are 1 to 64 characters from [A-Za-z0-9_-] (AWS CreateJob). */
static bool valid_job_id(const char *id)
{
    size_t n = strlen(id);

    if (n == 0u || n > OTA_JOB_ID_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_' || c == '-';

        if (!ok) {
            return false;
        }
    }
    return true;
}

/* Reads an unsigned number written as hex ("0x..."), decimal, or bare. */
static bool parse_version_text(const char *s, uint32_t *out)
{
    uint64_t v = 0;
    unsigned base = 10;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (*s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        unsigned d;

        if (*s >= '0' && *s <= '9') {
            d = (unsigned)(*s - '0');
        } else if (base == 16 && *s >= 'a' && *s <= 'f') {
            d = (unsigned)(*s - 'a' + 10);
        } else if (base == 16 && *s >= 'A' && *s <= 'F') {
            d = (unsigned)(*s - 'A' + 10);
        } else {
            return false;
        }
        v = v * base + d;
        if (v > 0xFFFFFFFFu) {
            return false;
        }
    }
    *out = (uint32_t)v;
    return true;
}

/* updatedBy is a string such as "0x1000000"; a plain number also works. */
static enum ota_job_status parse_updated_by(const struct ota_json *v,
                                            struct ota_job_execution *out)
{
    char text[16];

    if (ota_json_type(v) == OTA_JSON_NUMBER) {
        if (ota_json_u32(v, &out->updated_by) != OTA_JSON_OK) {
            return OTA_JOB_BAD_DETAILS;
        }
    } else if (ota_json_string(v, text, sizeof(text), NULL) != OTA_JSON_OK ||
               !parse_version_text(text, &out->updated_by)) {
        return OTA_JOB_BAD_DETAILS;
    }
    out->has_updated_by = true;
    return OTA_JOB_OK;
}

static enum ota_job_status parse_details(const struct ota_json *execution,
                                         struct ota_job_execution *out)
{
    struct ota_json details;
    struct ota_json v;

    if (ota_json_get(execution, "statusDetails", &details) != OTA_JSON_OK) {
        return OTA_JOB_OK;
    }
    if (ota_json_type(&details) != OTA_JSON_OBJECT) {
        return OTA_JOB_BAD_DETAILS;
    }
    if (ota_json_get(&details, "self_test", &v) == OTA_JSON_OK) {
        out->self_test = true;
        if (ota_json_string(&v, out->self_test_phase,
                            sizeof(out->self_test_phase),
                            NULL) != OTA_JSON_OK) {
            return OTA_JOB_BAD_DETAILS;
        }
    }
    if (ota_json_get(&details, "updatedBy", &v) == OTA_JSON_OK) {
        return parse_updated_by(&v, out);
    }
    return OTA_JOB_OK;
}

enum ota_job_status ota_job_parse_execution(const char *text, size_t len,
                                            struct ota_job_execution *out)
{
    struct ota_json root;
    struct ota_json execution;
    struct ota_json v;
    enum ota_job_status st = parse_root(text, len, &root);

    memset(out, 0, sizeof(*out));
    if (st != OTA_JOB_OK) {
        return st;
    }
    if (ota_json_get(&root, "execution", &execution) != OTA_JSON_OK) {
        return OTA_JOB_NONE;
    }
    if (ota_json_get(&execution, "jobId", &v) != OTA_JSON_OK ||
        ota_json_string(&v, out->job_id, sizeof(out->job_id), NULL) !=
            OTA_JSON_OK ||
        !valid_job_id(out->job_id)) {
        out->job_id[0] = '\0';
        return OTA_JOB_BAD_JOB_ID;
    }
    return parse_details(&execution, out);
}

/* ---- the afr_ota object ------------------------------------------------ */

static enum ota_job_status check_protocols(const struct ota_json *ota)
{
    struct ota_json list;
    struct ota_json item;

    if (ota_json_get(ota, "protocols", &list) != OTA_JSON_OK ||
        ota_json_type(&list) != OTA_JSON_ARRAY) {
        return OTA_JOB_NO_PROTOCOLS;
    }
    for (size_t i = 0; ota_json_at(&list, i, &item) == OTA_JSON_OK; i++) {
        if (ota_json_string_is(&item, "MQTT")) {
            return OTA_JOB_OK;
        }
    }
    return OTA_JOB_NO_MQTT;
}

/* A stream id becomes a topic level: no '/', '+' or '#', not empty. */
static enum ota_job_status read_stream(const struct ota_json *ota,
                                       struct ota_job_file *out)
{
    struct ota_json v;

    if (ota_json_get(ota, "streamname", &v) != OTA_JSON_OK ||
        ota_json_string(&v, out->stream, sizeof(out->stream), NULL) !=
            OTA_JSON_OK ||
        out->stream[0] == '\0' || strpbrk(out->stream, "/+#") != NULL) {
        return OTA_JOB_BAD_STREAM;
    }
    return OTA_JOB_OK;
}

static enum ota_job_status read_paths(const struct ota_json *file,
                                      struct ota_job_file *out)
{
    struct ota_json v;

    if (ota_json_get(file, "filepath", &v) != OTA_JSON_OK) {
        return OTA_JOB_NO_FILEPATH;
    }
    if (ota_json_string(&v, out->filepath, sizeof(out->filepath), NULL) !=
        OTA_JSON_OK) {
        return OTA_JOB_BAD_FILEPATH;
    }
    if (out->filepath[0] == '\0') {
        return OTA_JOB_NO_FILEPATH;
    }
    if (ota_json_get(file, "certfile", &v) == OTA_JSON_OK &&
        ota_json_string(&v, out->certfile, sizeof(out->certfile), NULL) !=
            OTA_JSON_OK) {
        return OTA_JOB_BAD_CERTFILE;
    }
    return OTA_JOB_OK;
}

/* An optional integer field; absent leaves *value alone. */
static bool read_optional_u32(const struct ota_json *file, const char *key,
                              uint32_t *value)
{
    struct ota_json v;

    if (ota_json_get(file, key, &v) != OTA_JSON_OK) {
        return true;
    }
    return ota_json_u32(&v, value) == OTA_JSON_OK;
}

static enum ota_job_status read_numbers(const struct ota_json *file,
                                        const struct ota_job_limits *limits,
                                        struct ota_job_file *out)
{
    struct ota_json v;

    if (ota_json_get(file, "filesize", &v) != OTA_JSON_OK ||
        ota_json_u32(&v, &out->file_size) != OTA_JSON_OK ||
        out->file_size == 0u) {
        return OTA_JOB_BAD_FILESIZE;
    }
    if (out->file_size > limits->max_file_size) {
        return OTA_JOB_FILE_TOO_LARGE;
    }
    if (ota_json_get(file, "fileid", &v) != OTA_JSON_OK ||
        ota_json_u32(&v, &out->file_id) != OTA_JSON_OK ||
        out->file_id > 255u) {
        return OTA_JOB_BAD_FILEID;
    }
    if (!read_optional_u32(file, "fileType", &out->file_type) ||
        !read_optional_u32(file, "attr", &out->attributes)) {
        return OTA_JOB_BAD_FIELD;
    }
    return OTA_JOB_OK;
}

/* Finds the signature: the PAL's key, or the reason there is none. */
static enum ota_job_status find_signature(const struct ota_json *file,
                                          const char *sig_key,
                                          struct ota_json *sig)
{
    struct ota_json_iter it;
    struct ota_json k;
    struct ota_json v;
    bool other = false;

    if (ota_json_get(file, sig_key, sig) == OTA_JSON_OK) {
        return OTA_JOB_OK;
    }
    (void)ota_json_members(file, &it);
    while (ota_json_next(&it, &k, &v)) {
        /* The raw key text follows its opening quote. */
        size_t n = strlen(SIG_PREFIX);

        if (k.len > n + 1u && strncmp(k.p + 1, SIG_PREFIX, n) == 0) {
            other = true;
        }
    }
    return other ? OTA_JOB_UNSUPPORTED_SIG : OTA_JOB_NO_SIGNATURE;
}

static enum ota_job_status read_signature(const struct ota_json *file,
                                          const char *sig_key,
                                          struct ota_job_file *out)
{
    struct ota_json v;
    char text[(kOTA_MaxSignatureSize + 2u) / 3u * 4u + 1u];
    size_t text_len;
    size_t sig_len;
    enum ota_job_status st = find_signature(file, sig_key, &v);

    if (st != OTA_JOB_OK) {
        return st;
    }
    if (ota_json_string(&v, text, sizeof(text), &text_len) != OTA_JSON_OK ||
        ota_base64_decode(text, text_len, out->signature.data,
                          sizeof(out->signature.data),
                          &sig_len) != OTA_B64_OK ||
        sig_len == 0u) {
        return OTA_JOB_BAD_SIGNATURE;
    }
    out->signature.size = (uint16_t)sig_len;
    return OTA_JOB_OK;
}

static enum ota_job_status read_file(const struct ota_json *ota,
                                     const struct ota_job_limits *limits,
                                     struct ota_job_file *out)
{
    struct ota_json files;
    struct ota_json file;
    enum ota_job_status st;

    if (ota_json_get(ota, "files", &files) != OTA_JSON_OK ||
        ota_json_at(&files, 0, &file) != OTA_JSON_OK ||
        ota_json_type(&file) != OTA_JSON_OBJECT) {
        return OTA_JOB_NO_FILES;
    }
    st = read_paths(&file, out);
    if (st == OTA_JOB_OK) {
        st = read_numbers(&file, limits, out);
    }
    if (st == OTA_JOB_OK) {
        st = read_signature(&file, limits->sig_key, out);
    }
    return st;
}

enum ota_job_status ota_job_parse_file(const char *text, size_t len,
                                       const struct ota_job_limits *limits,
                                       struct ota_job_file *out)
{
    struct ota_json root;
    struct ota_json ota;
    enum ota_job_status st = parse_root(text, len, &root);

    memset(out, 0, sizeof(*out));
    if (st != OTA_JOB_OK) {
        return st;
    }
    if (ota_json_path(&root, "execution.jobDocument.afr_ota", &ota) !=
            OTA_JSON_OK ||
        ota_json_type(&ota) != OTA_JSON_OBJECT) {
        return OTA_JOB_NOT_OTA;
    }
    st = check_protocols(&ota);
    if (st == OTA_JOB_OK) {
        st = read_stream(&ota, out);
    }
    if (st == OTA_JOB_OK) {
        st = read_file(&ota, limits, out);
    }
    return st;
}

const char *ota_job_strerror(enum ota_job_status st)
{
    static const char *const names[] = {
        "ok",
        "not a JSON object",
        "no job pending",
        "bad job id",
        "bad statusDetails",
        "not an OTA job",
        "no protocols",
        "MQTT not in protocols",
        "bad streamname",
        "no files",
        "missing filepath",
        "bad filepath",
        "bad filesize",
        "file too large",
        "bad fileid",
        "bad certfile",
        "bad fileType or attr",
        "no signature",
        "unsupported signature algorithm",
        "bad signature",
    };

    if ((unsigned)st >= sizeof(names) / sizeof(names[0])) {
        return "unknown";
    }
    return names[st];
}
