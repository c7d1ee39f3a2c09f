/*
 * Compiled record walker, decoder and encoder for tidal.log.records._batch,
 * and the producer's murmur2 key hash.
 *
 * The walk and the decoder take the records section of a batch (after the
 * 61-byte header, decompressed) and mirror _walk_records_py and
 * _decode_records_py in _batch.py exactly: the same checks in the same order,
 * the same exception classes and the same messages. The encoder builds a
 * records section from parallel lists of keys, values, timestamps and
 * headers and mirrors _encode_records_py: the same bytes, and the same
 * exceptions for fields of the wrong type. The Python versions stay the
 * reference; tests/log/records/test_speedups*.py compare the two on random
 * and mutated batches and on random records.
 *
 * Record layout (all varints zigzag, at most 10 bytes):
 *
 *     length varint | attributes int8 | timestamp_delta varlong | offset_delta varint
 *     key_length varint | key | value_length varint | value
 *     header_count varint | (key_length varint | key utf-8 | value_length varint | value)*
 *
 * The walk reads varints as Python does, with arbitrary precision: a tenth
 * byte may carry bits 63..69, so such a value is kept as 64 low bits plus 6
 * high bits and turned into a Python int only for an error message. The
 * decoder's varints are cut to 64 bits, as read_varint does.
 *
 * Every read is checked against the buffer's length; nothing here trusts a
 * length, a count or a varint from the data.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>

#define RECORD_FIELDS 5
#define HEADER_FIELDS 2
#define CONSUMER_FIELDS 8
/* length-prefixed attributes, timestamp delta, offset delta, key length,
 * value length and header count of one byte each */
#define MIN_RECORD_BODY 6
#define MAX_VARINT_SHIFT 63

/* A class the decoder instantiates. When it is a plain slots dataclass (no
 * __new__, no __post_init__, object slots at known offsets), instances are
 * allocated and their slots filled directly, which is what its generated
 * __init__ does through object.__setattr__, at a fraction of the cost (about
 * 1.4 us a record when calling the class, 0.2 us this way). Otherwise the
 * class is called with the field values in order. */
typedef struct {
    PyTypeObject *type;
    int direct;
    Py_ssize_t offsets[RECORD_FIELDS];
} record_class;

typedef struct {
    PyObject *corrupt_error;
    PyObject *invalid_error;
    record_class record;
    record_class header;
    /* the class decode_records_into() fills, and its slot offsets */
    PyTypeObject *consumer_type;
    Py_ssize_t consumer_offsets[CONSUMER_FIELDS];
    /* interned attribute and method names for the encoder */
    PyObject *str_key;
    PyObject *str_value;
    PyObject *str_encode;
    PyObject *str_utf8;
} module_state;

static const char *const record_field_names[RECORD_FIELDS] = {
    "offset", "timestamp", "key", "value", "headers",
};
static const char *const header_field_names[HEADER_FIELDS] = {"key", "value"};
static const char *const consumer_field_names[CONSUMER_FIELDS] = {
    "topic", "partition", "offset", "timestamp", "timestamp_type", "key", "value", "headers",
};

static module_state *
get_state(PyObject *module)
{
    return (module_state *)PyModule_GetState(module);
}

static int
check_configured(module_state *st)
{
    if (st->corrupt_error == NULL) {
        PyErr_SetString(PyExc_RuntimeError,
                        "tidal.log.records._speedups.configure() was not called");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- classes */

/* Returns 1 when `name` is an object slot of `type` that can be written
 * directly, storing its offset. */
static int
slot_offset(PyTypeObject *type, const char *name, Py_ssize_t *offset)
{
    PyObject *descr = PyDict_GetItemString(type->tp_dict, name); /* borrowed */
    if (descr == NULL || !Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
        return 0;
    }
    PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
    if (member->type != T_OBJECT_EX || (member->flags & READONLY)) {
        return 0;
    }
    if (member->offset < (Py_ssize_t)sizeof(PyObject) ||
        member->offset + (Py_ssize_t)sizeof(PyObject *) > type->tp_basicsize) {
        return 0;
    }
    *offset = member->offset;
    return 1;
}

static int
setup_class(record_class *rc, PyObject *obj, const char *const *names, int count)
{
    if (!PyType_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "expected a class, got %R", obj);
        return -1;
    }
    PyTypeObject *type = (PyTypeObject *)obj;
    /* The positional order the fallback call relies on. */
    PyObject *match_args = PyObject_GetAttrString(obj, "__match_args__");
    if (match_args == NULL) {
        return -1;
    }
    int ok = PyTuple_Check(match_args) && PyTuple_GET_SIZE(match_args) == count;
    for (int i = 0; ok && i < count; i++) {
        PyObject *item = PyTuple_GET_ITEM(match_args, i);
        ok = PyUnicode_Check(item) && PyUnicode_CompareWithASCIIString(item, names[i]) == 0;
    }
    Py_DECREF(match_args);
    if (!ok) {
        PyErr_Format(PyExc_TypeError, "%s does not have the expected fields", type->tp_name);
        return -1;
    }
    int direct = PyObject_HasAttrString(obj, "__dataclass_fields__") &&
                 !PyObject_HasAttrString(obj, "__post_init__") &&
                 type->tp_new == PyBaseObject_Type.tp_new &&
                 type->tp_alloc == PyType_GenericAlloc && type->tp_itemsize == 0;
    for (int i = 0; direct && i < count; i++) {
        direct = slot_offset(type, names[i], &rc->offsets[i]);
    }
    rc->type = (PyTypeObject *)Py_NewRef(obj);
    rc->direct = direct;
    return 0;
}

/* Builds an instance from `count` new references, which it always consumes. */
static PyObject *
new_instance(record_class *rc, PyObject **values, int count)
{
    PyObject *obj;
    if (rc->direct) {
        obj = rc->type->tp_alloc(rc->type, 0);
        if (obj != NULL) {
            int tracked = 0;
            for (int i = 0; i < count; i++) {
                *(PyObject **)((char *)obj + rc->offsets[i]) = values[i];
                tracked |= PyObject_GC_IsTracked(values[i]);
            }
            /* A frozen instance whose fields are all untracked (ints, bytes,
             * str, None, tuples of such instances) cannot be part of a
             * reference cycle; CPython untracks tuples on the same rule.
             * Leaving it out of the collector's lists keeps each collection
             * from walking every decoded record: half of the decode time. */
            if (!tracked && PyObject_GC_IsTracked(obj)) {
                PyObject_GC_UnTrack(obj);
            }
            return obj;
        }
    }
    else {
        obj = PyObject_Vectorcall((PyObject *)rc->type, values, (size_t)count, NULL);
    }
    for (int i = 0; i < count; i++) {
        Py_DECREF(values[i]);
    }
    return obj;
}

static PyObject *
configure(PyObject *module, PyObject *args)
{
    PyObject *corrupt, *invalid, *record, *header;
    if (!PyArg_ParseTuple(args, "OOOO:configure", &corrupt, &invalid, &record, &header)) {
        return NULL;
    }
    if (!PyExceptionClass_Check(corrupt) || !PyExceptionClass_Check(invalid)) {
        PyErr_SetString(PyExc_TypeError, "configure() needs two exception classes first");
        return NULL;
    }
    /* All or nothing: a refused class leaves the previous configuration. */
    record_class new_record = {0}, new_header = {0};
    if (setup_class(&new_record, record, record_field_names, RECORD_FIELDS) < 0) {
        return NULL;
    }
    if (setup_class(&new_header, header, header_field_names, HEADER_FIELDS) < 0) {
        Py_DECREF(new_record.type);
        return NULL;
    }
    module_state *st = get_state(module);
    PyTypeObject *old_record = st->record.type, *old_header = st->header.type;
    st->record = new_record;
    st->header = new_header;
    Py_XDECREF(old_record);
    Py_XDECREF(old_header);
    Py_XSETREF(st->corrupt_error, Py_NewRef(corrupt));
    Py_XSETREF(st->invalid_error, Py_NewRef(invalid));
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------- walk */

/* An up to 70-bit zigzag varint: low 64 bits and bits 64..69. */
typedef struct {
    uint64_t low;
    unsigned int high;
} wide_varint;

static inline void
wide_add(wide_varint *v, unsigned int byte, int shift)
{
    uint64_t bits = byte & 0x7F;
    if (shift < 63) {
        v->low |= bits << shift;
    }
    else {
        v->low |= (bits & 1) << 63;
        v->high |= (unsigned int)(bits >> 1);
    }
}

static inline int64_t
zigzag64(uint64_t z)
{
    return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
}

/* The decoded value as a Python int, however wide (only for messages). */
static PyObject *
wide_to_long(wide_varint v)
{
    if (v.high == 0) {
        return PyLong_FromLongLong(zigzag64(v.low));
    }
    /* z = high << 64 | low; value = z >> 1, or -(z >> 1) - 1 when z is odd. */
    uint64_t half_low = (v.low >> 1) | ((uint64_t)(v.high & 1) << 63);
    PyObject *high = PyLong_FromUnsignedLong(v.high >> 1);
    PyObject *sixty_four = PyLong_FromLong(64);
    PyObject *low = PyLong_FromUnsignedLongLong(half_low);
    PyObject *shifted = NULL, *half = NULL, *result = NULL;
    if (high != NULL && sixty_four != NULL && low != NULL) {
        shifted = PyNumber_Lshift(high, sixty_four);
    }
    if (shifted != NULL) {
        half = PyNumber_Or(shifted, low);
    }
    if (half != NULL) {
        result = (v.low & 1) ? PyNumber_Invert(half) : Py_NewRef(half);
    }
    Py_XDECREF(high);
    Py_XDECREF(sixty_four);
    Py_XDECREF(low);
    Py_XDECREF(shifted);
    Py_XDECREF(half);
    return result;
}

static void
raise_with_value(PyObject *error, const char *format, long long index, wide_varint value,
                 long long a, long long b)
{
    PyObject *number = wide_to_long(value);
    if (number != NULL) {
        PyErr_Format(error, format, index, number, a, b);
        Py_DECREF(number);
    }
}

static int
walk(module_state *st, const unsigned char *data, Py_ssize_t end, long long count,
     long long last_delta, int reject_null_keys)
{
    Py_ssize_t pos = 0;
    long long previous = -1;
    long long null_key = -1;
    long long index;
    for (index = 0; index < count; index++) {
        /* record length */
        wide_varint zz = {0, 0};
        int shift = 0;
        for (;;) {
            if (pos >= end) {
                goto truncated;
            }
            unsigned int byte = data[pos++];
            wide_add(&zz, byte, shift);
            if (byte < 0x80) {
                break;
            }
            shift += 7;
            if (shift > MAX_VARINT_SHIFT) {
                PyErr_Format(st->corrupt_error, "record %lld has an overlong length varint",
                             index);
                return -1;
            }
        }
        int64_t length = zigzag64(zz.low);
        if (zz.high != 0 || length < MIN_RECORD_BODY || length > end - pos) {
            raise_with_value(st->corrupt_error, "record %lld has an invalid length %S", index, zz,
                             0, 0);
            return -1;
        }
        Py_ssize_t record_end = pos + (Py_ssize_t)length;
        /* attributes, then skip the timestamp delta; like the Python loop,
         * this looks at the byte at record_end before stopping there */
        Py_ssize_t cursor = pos + 1;
        for (;;) {
            if (cursor >= end) {
                goto truncated;
            }
            if (data[cursor] < 0x80 || cursor >= record_end) {
                break;
            }
            cursor++;
        }
        cursor++;
        /* offset delta: an overlong one is cut at ten bytes, not refused */
        zz.low = 0;
        zz.high = 0;
        shift = 0;
        int complete = 0;
        while (cursor < record_end) {
            unsigned int byte = data[cursor++];
            wide_add(&zz, byte, shift);
            if (byte < 0x80) {
                complete = 1;
                break;
            }
            shift += 7;
            if (shift > MAX_VARINT_SHIFT) {
                complete = 1;
                break;
            }
        }
        if (!complete) {
            PyErr_Format(st->corrupt_error, "record %lld is cut inside its offset delta", index);
            return -1;
        }
        int64_t delta = zigzag64(zz.low);
        if (zz.high != 0 || delta <= previous || delta > last_delta) {
            raise_with_value(st->invalid_error,
                             "record %lld has offset delta %S, expected above %lld and at most "
                             "%lld",
                             index, zz, previous, last_delta);
            return -1;
        }
        previous = delta;
        if (reject_null_keys) {
            /* key length, cut at ten bytes like the offset delta; -1 (zigzag
             * 1) is a null key, refused once the walk is through */
            zz.low = 0;
            zz.high = 0;
            shift = 0;
            complete = 0;
            while (cursor < record_end) {
                unsigned int byte = data[cursor++];
                wide_add(&zz, byte, shift);
                if (byte < 0x80) {
                    complete = 1;
                    break;
                }
                shift += 7;
                if (shift > MAX_VARINT_SHIFT) {
                    complete = 1;
                    break;
                }
            }
            if (!complete) {
                PyErr_Format(st->corrupt_error, "record %lld is cut inside its key length", index);
                return -1;
            }
            if (zz.low == 1 && zz.high == 0 && null_key < 0) {
                null_key = index;
            }
        }
        pos = record_end;
    }
    if (pos != end) {
        PyErr_Format(st->corrupt_error,
                     "records section has %zd bytes after the declared %lld records", end - pos,
                     count);
        return -1;
    }
    if (null_key >= 0) {
        PyErr_Format(st->invalid_error, "record %lld has a null key", null_key);
        return -1;
    }
    return 0;

truncated:
    PyErr_Format(st->corrupt_error, "records section ends inside record %lld of %lld", index,
                 count);
    return -1;
}

static PyObject *
walk_records(PyObject *module, PyObject *args)
{
    module_state *st = get_state(module);
    Py_buffer buffer;
    long long count, last_delta;
    int reject_null_keys = 0;
    if (check_configured(st) < 0 ||
        !PyArg_ParseTuple(args, "y*LL|p:walk_records", &buffer, &count, &last_delta,
                          &reject_null_keys)) {
        return NULL;
    }
    int failed = walk(st, (const unsigned char *)buffer.buf, buffer.len, count, last_delta,
                      reject_null_keys);
    PyBuffer_Release(&buffer);
    if (failed) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* ----------------------------------------------------------------- decode */

/* read_varint(): at most ten bytes before `end`, cut to 64 bits. */
static inline int
read_varint(module_state *st, const unsigned char *data, Py_ssize_t *pos, Py_ssize_t end,
            int64_t *value)
{
    Py_ssize_t p = *pos;
    if (p < end && data[p] < 0x80) {
        *value = zigzag64(data[p]);
        *pos = p + 1;
        return 0;
    }
    uint64_t result = 0;
    int shift = 0;
    for (;;) {
        if (p >= end) {
            PyErr_SetString(st->corrupt_error, "varint runs past the end of its buffer");
            return -1;
        }
        unsigned int byte = data[p++];
        result |= (uint64_t)(byte & 0x7F) << shift;
        if (byte < 0x80) {
            break;
        }
        shift += 7;
        if (shift > MAX_VARINT_SHIFT) {
            PyErr_SetString(st->corrupt_error, "varint longer than 10 bytes");
            return -1;
        }
    }
    *value = zigzag64(result);
    *pos = p;
    return 0;
}

/* _read_bytes() without building the object: the span of a nullable field.
 * Sets *start to -1 for null. */
static inline int
read_span(module_state *st, const unsigned char *data, Py_ssize_t *pos, Py_ssize_t end,
          Py_ssize_t *start, Py_ssize_t *size)
{
    int64_t length;
    if (read_varint(st, data, pos, end, &length) < 0) {
        return -1;
    }
    if (length < 0) {
        if (length != -1) {
            PyErr_Format(st->corrupt_error, "negative length %lld", (long long)length);
            return -1;
        }
        *start = -1;
        *size = 0;
        return 0;
    }
    if (length > end - *pos) {
        PyErr_SetString(st->corrupt_error, "field runs past the end of its record");
        return -1;
    }
    *start = *pos;
    *size = (Py_ssize_t)length;
    *pos += (Py_ssize_t)length;
    return 0;
}

static PyObject *
span_bytes(const unsigned char *data, Py_ssize_t start, Py_ssize_t size)
{
    if (start < 0) {
        Py_RETURN_NONE;
    }
    return PyBytes_FromStringAndSize((const char *)data + start, size);
}

static PyObject *
read_bytes(module_state *st, const unsigned char *data, Py_ssize_t *pos, Py_ssize_t end)
{
    Py_ssize_t start, size;
    if (read_span(st, data, pos, end, &start, &size) < 0) {
        return NULL;
    }
    return span_bytes(data, start, size);
}

/* a + b as a Python int, exact even past 64 bits */
static PyObject *
add_ints(int64_t a, int64_t b)
{
    if ((b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b)) {
        PyObject *x = PyLong_FromLongLong(a);
        PyObject *y = PyLong_FromLongLong(b);
        PyObject *sum = (x != NULL && y != NULL) ? PyNumber_Add(x, y) : NULL;
        Py_XDECREF(x);
        Py_XDECREF(y);
        return sum;
    }
    return PyLong_FromLongLong(a + b);
}

/* Replaces the pending UnicodeDecodeError, whose text goes into the message. */
static void
raise_not_utf8(module_state *st)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *exc = PyErr_GetRaisedException();
    PyErr_Format(st->corrupt_error, "header key is not UTF-8: %S", exc);
    Py_XDECREF(exc);
#else
    PyObject *type, *exc, *traceback;
    PyErr_Fetch(&type, &exc, &traceback);
    PyErr_NormalizeException(&type, &exc, &traceback);
    PyErr_Format(st->corrupt_error, "header key is not UTF-8: %S", exc);
    Py_XDECREF(type);
    Py_XDECREF(exc);
    Py_XDECREF(traceback);
#endif
}

/* The headers of a record as a tuple of Header instances, or (as_pairs) of
 * (key, value) tuples. */
static PyObject *
decode_headers(module_state *st, const unsigned char *data, Py_ssize_t *pos,
               Py_ssize_t record_end, int as_pairs)
{
    int64_t count;
    if (read_varint(st, data, pos, record_end, &count) < 0) {
        return NULL;
    }
    if (count < 0 || count > record_end - *pos) {
        PyErr_Format(st->corrupt_error, "invalid header count %lld", (long long)count);
        return NULL;
    }
    PyObject *headers = PyTuple_New((Py_ssize_t)count);
    if (headers == NULL) {
        return NULL;
    }
    int tracked = 0;
    for (Py_ssize_t i = 0; i < (Py_ssize_t)count; i++) {
        Py_ssize_t key_start, key_size;
        if (read_span(st, data, pos, record_end, &key_start, &key_size) < 0) {
            goto error;
        }
        if (key_start < 0) {
            PyErr_SetString(st->corrupt_error, "null header key");
            goto error;
        }
        PyObject *values[HEADER_FIELDS];
        values[1] = read_bytes(st, data, pos, record_end);
        if (values[1] == NULL) {
            goto error;
        }
        values[0] = PyUnicode_DecodeUTF8((const char *)data + key_start, key_size, NULL);
        if (values[0] == NULL) {
            Py_DECREF(values[1]);
            if (PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
                raise_not_utf8(st);
            }
            goto error;
        }
        PyObject *header;
        if (as_pairs) {
            header = PyTuple_Pack(2, values[0], values[1]);
            Py_DECREF(values[0]);
            Py_DECREF(values[1]);
            if (header != NULL && !PyObject_GC_IsTracked(values[1])) {
                PyObject_GC_UnTrack(header);
            }
        }
        else {
            header = new_instance(&st->header, values, HEADER_FIELDS);
        }
        if (header == NULL) {
            goto error;
        }
        PyTuple_SET_ITEM(headers, i, header);
        tracked |= PyObject_GC_IsTracked(header);
    }
    if (count && !tracked) {
        PyObject_GC_UnTrack(headers);
    }
    return headers;

error:
    Py_DECREF(headers);
    return NULL;
}

static PyObject *
decode(module_state *st, const unsigned char *data, Py_ssize_t end, long long count,
       int64_t base_offset, int64_t base_timestamp, PyObject *log_append_time)
{
    /* A record takes at least 7 bytes, which bounds the list before allocating. */
    if (count > end / 7 + 1) {
        PyErr_Format(st->corrupt_error, "record count %lld cannot fit in %zd bytes of records",
                     count, end);
        return NULL;
    }
    Py_ssize_t total = count > 0 ? (Py_ssize_t)count : 0;
    PyObject *records = PyList_New(total);
    if (records == NULL) {
        return NULL;
    }
    PyObject *timestamp = NULL; /* the last one built, and its delta */
    int64_t last_timestamp_delta = 0;
    Py_ssize_t pos = 0;
    for (Py_ssize_t i = 0; i < total; i++) {
        int64_t length, timestamp_delta, offset_delta;
        if (read_varint(st, data, &pos, end, &length) < 0) {
            goto error;
        }
        if (length < 1 || length > end - pos) {
            PyErr_Format(st->corrupt_error, "invalid record length %lld", (long long)length);
            goto error;
        }
        Py_ssize_t record_end = pos + (Py_ssize_t)length;
        pos += 1; /* attributes, unused */
        if (read_varint(st, data, &pos, record_end, &timestamp_delta) < 0 ||
            read_varint(st, data, &pos, record_end, &offset_delta) < 0) {
            goto error;
        }
        PyObject *fields[RECORD_FIELDS] = {NULL, NULL, NULL, NULL, NULL};
        fields[2] = read_bytes(st, data, &pos, record_end);
        if (fields[2] != NULL) {
            fields[3] = read_bytes(st, data, &pos, record_end);
        }
        if (fields[3] != NULL) {
            fields[4] = decode_headers(st, data, &pos, record_end, 0);
        }
        if (fields[4] != NULL && pos != record_end) {
            PyErr_SetString(st->corrupt_error, "record length does not match its fields");
            Py_CLEAR(fields[4]);
        }
        if (fields[4] != NULL) {
            fields[0] = add_ints(base_offset, offset_delta);
        }
        if (fields[0] != NULL) {
            if (log_append_time != Py_None) {
                fields[1] = Py_NewRef(log_append_time);
            }
            else if (timestamp != NULL && timestamp_delta == last_timestamp_delta) {
                /* Records of a batch often share a timestamp: share the int. */
                fields[1] = Py_NewRef(timestamp);
            }
            else {
                fields[1] = add_ints(base_timestamp, timestamp_delta);
                if (fields[1] != NULL) {
                    Py_XSETREF(timestamp, Py_NewRef(fields[1]));
                    last_timestamp_delta = timestamp_delta;
                }
            }
        }
        if (fields[1] == NULL) {
            for (int f = 0; f < RECORD_FIELDS; f++) {
                Py_XDECREF(fields[f]);
            }
            goto error;
        }
        PyObject *record = new_instance(&st->record, fields, RECORD_FIELDS);
        if (record == NULL) {
            goto error;
        }
        PyList_SET_ITEM(records, i, record);
    }
    Py_CLEAR(timestamp);
    if (pos != end) {
        PyErr_Format(st->corrupt_error, "%zd bytes follow the last record", end - pos);
        goto error;
    }
    return records;

error:
    Py_XDECREF(timestamp);
    Py_DECREF(records);
    return NULL;
}

static PyObject *
decode_records(PyObject *module, PyObject *args)
{
    module_state *st = get_state(module);
    Py_buffer buffer;
    long long count, base_offset, base_timestamp;
    PyObject *log_append_time;
    if (check_configured(st) < 0 ||
        !PyArg_ParseTuple(args, "y*LLLO:decode_records", &buffer, &count, &base_offset,
                          &base_timestamp, &log_append_time)) {
        return NULL;
    }
    PyObject *records = decode(st, (const unsigned char *)buffer.buf, buffer.len, count,
                               base_offset, base_timestamp, log_append_time);
    PyBuffer_Release(&buffer);
    return records;
}

/* ------------------------------------------------------- consumer records */

/* decode_records_into() builds instances of a plain class keeping the eight
 * consumer record fields in object slots (no __new__, no __init__ run), as
 * new_instance() does for a slots dataclass. The class is checked on first
 * use and remembered. */
static int
consumer_layout(module_state *st, PyTypeObject *type)
{
    if (st->consumer_type == type) {
        return 0;
    }
    Py_ssize_t offsets[CONSUMER_FIELDS];
    int ok = type->tp_new == PyBaseObject_Type.tp_new &&
             type->tp_alloc == PyType_GenericAlloc && type->tp_itemsize == 0;
    for (int i = 0; ok && i < CONSUMER_FIELDS; i++) {
        ok = slot_offset(type, consumer_field_names[i], &offsets[i]);
    }
    if (!ok) {
        PyErr_Format(PyExc_TypeError,
                     "%s must keep topic, partition, offset, timestamp, timestamp_type, key, "
                     "value and headers in writable slots, with no __new__",
                     type->tp_name);
        return -1;
    }
    Py_XSETREF(st->consumer_type, (PyTypeObject *)Py_NewRef((PyObject *)type));
    memcpy(st->consumer_offsets, offsets, sizeof(offsets));
    return 0;
}

typedef struct {
    PyTypeObject *type;
    PyObject *topic;
    PyObject *partition;
    PyObject *timestamp_type;
    int64_t min_offset;
    int untrack;
} consumer_args;

/* Appends to `out` one instance per record at or past min_offset; the same
 * checks in the same order as decode(), and on error `out` is cut back to
 * its length on entry. */
static int
decode_into(module_state *st, const unsigned char *data, Py_ssize_t end, long long count,
            int64_t base_offset, int64_t base_timestamp, PyObject *log_append_time,
            const consumer_args *ca, PyObject *out)
{
    if (count > end / 7 + 1) {
        PyErr_Format(st->corrupt_error, "record count %lld cannot fit in %zd bytes of records",
                     count, end);
        return -1;
    }
    Py_ssize_t total = count > 0 ? (Py_ssize_t)count : 0;
    Py_ssize_t start_len = PyList_GET_SIZE(out);
    PyObject *timestamp = NULL; /* the last one built, and its delta */
    int64_t last_timestamp_delta = 0;
    Py_ssize_t pos = 0;
    for (Py_ssize_t i = 0; i < total; i++) {
        int64_t length, timestamp_delta, offset_delta;
        if (read_varint(st, data, &pos, end, &length) < 0) {
            goto error;
        }
        if (length < 1 || length > end - pos) {
            PyErr_Format(st->corrupt_error, "invalid record length %lld", (long long)length);
            goto error;
        }
        Py_ssize_t record_end = pos + (Py_ssize_t)length;
        pos += 1; /* attributes, unused */
        if (read_varint(st, data, &pos, record_end, &timestamp_delta) < 0 ||
            read_varint(st, data, &pos, record_end, &offset_delta) < 0) {
            goto error;
        }
        Py_ssize_t key_start, key_size, value_start, value_size;
        if (read_span(st, data, &pos, record_end, &key_start, &key_size) < 0 ||
            read_span(st, data, &pos, record_end, &value_start, &value_size) < 0) {
            goto error;
        }
        PyObject *headers = decode_headers(st, data, &pos, record_end, 1);
        if (headers == NULL) {
            goto error;
        }
        if (pos != record_end) {
            PyErr_SetString(st->corrupt_error, "record length does not match its fields");
            Py_DECREF(headers);
            goto error;
        }
        int64_t sum;
        int keep = __builtin_add_overflow(base_offset, offset_delta, &sum)
                       ? offset_delta > 0
                       : sum >= ca->min_offset;
        if (!keep) {
            Py_DECREF(headers);
            continue;
        }
        PyObject *fields[CONSUMER_FIELDS] = {NULL};
        fields[7] = headers;
        fields[5] = span_bytes(data, key_start, key_size);
        if (fields[5] != NULL) {
            fields[6] = span_bytes(data, value_start, value_size);
        }
        if (fields[6] != NULL) {
            fields[2] = add_ints(base_offset, offset_delta);
        }
        if (fields[2] != NULL) {
            if (log_append_time != Py_None) {
                fields[3] = Py_NewRef(log_append_time);
            }
            else if (timestamp != NULL && timestamp_delta == last_timestamp_delta) {
                fields[3] = Py_NewRef(timestamp);
            }
            else {
                fields[3] = add_ints(base_timestamp, timestamp_delta);
                if (fields[3] != NULL) {
                    Py_XSETREF(timestamp, Py_NewRef(fields[3]));
                    last_timestamp_delta = timestamp_delta;
                }
            }
        }
        PyObject *record = NULL;
        if (fields[3] != NULL) {
            record = ca->type->tp_alloc(ca->type, 0);
        }
        if (record == NULL) {
            for (int f = 0; f < CONSUMER_FIELDS; f++) {
                Py_XDECREF(fields[f]);
            }
            goto error;
        }
        fields[0] = Py_NewRef(ca->topic);
        fields[1] = Py_NewRef(ca->partition);
        fields[4] = Py_NewRef(ca->timestamp_type);
        for (int f = 0; f < CONSUMER_FIELDS; f++) {
            *(PyObject **)((char *)record + st->consumer_offsets[f]) = fields[f];
        }
        /* As new_instance() does, but the instance is mutable: only when the
         * caller leaves the fields as decoded (bytes, None, ints and a tuple
         * of untracked pairs) is it left out of the cycle collector. The
         * shared topic, partition and timestamp type cannot lead back to it. */
        if (ca->untrack && !PyObject_GC_IsTracked(fields[5]) &&
            !PyObject_GC_IsTracked(fields[6]) && !PyObject_GC_IsTracked(fields[7]) &&
            PyObject_GC_IsTracked(record)) {
            PyObject_GC_UnTrack(record);
        }
        int appended = PyList_Append(out, record);
        Py_DECREF(record);
        if (appended < 0) {
            goto error;
        }
    }
    Py_CLEAR(timestamp);
    if (pos != end) {
        PyErr_Format(st->corrupt_error, "%zd bytes follow the last record", end - pos);
        goto error;
    }
    return 0;

error:
    Py_XDECREF(timestamp);
    if (PyList_GET_SIZE(out) > start_len) {
        PyObject *exc_type, *exc, *traceback;
        PyErr_Fetch(&exc_type, &exc, &traceback);
        if (PyList_SetSlice(out, start_len, PyList_GET_SIZE(out), NULL) < 0) {
            Py_XDECREF(exc_type);
            Py_XDECREF(exc);
            Py_XDECREF(traceback);
            return -1;
        }
        PyErr_Restore(exc_type, exc, traceback);
    }
    return -1;
}

static PyObject *
decode_records_into(PyObject *module, PyObject *args)
{
    module_state *st = get_state(module);
    Py_buffer buffer;
    long long count, base_offset, base_timestamp, min_offset;
    PyObject *log_append_time, *out;
    consumer_args ca;
    if (check_configured(st) < 0 ||
        !PyArg_ParseTuple(args, "O!y*LLLOLOOOpO!:decode_records_into", &PyType_Type,
                          (PyObject **)&ca.type,
                          &buffer, &count, &base_offset, &base_timestamp, &log_append_time,
                          &min_offset, &ca.topic, &ca.partition, &ca.timestamp_type,
                          &ca.untrack, &PyList_Type, &out)) {
        return NULL;
    }
    ca.min_offset = min_offset;
    int result = consumer_layout(st, ca.type);
    if (result == 0) {
        result = decode_into(st, (const unsigned char *)buffer.buf, buffer.len, count,
                             base_offset, base_timestamp, log_append_time, &ca, out);
    }
    PyBuffer_Release(&buffer);
    if (result < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* ----------------------------------------------------------------- encode */

/* The records section being built: a bytes object grown by doubling and cut
 * to size at the end, so the result is handed back without a copy. */
typedef struct {
    PyObject *bytes;
    char *data;
    Py_ssize_t len;
    Py_ssize_t cap;
} out_buffer;

static int
out_reserve(out_buffer *out, Py_ssize_t more)
{
    if (more <= out->cap - out->len) {
        return 0;
    }
    if (more > PY_SSIZE_T_MAX - out->len) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t need = out->len + more;
    Py_ssize_t cap = out->cap;
    while (cap < need) {
        cap = cap > PY_SSIZE_T_MAX / 2 ? need : cap * 2;
    }
    if (_PyBytes_Resize(&out->bytes, cap) < 0) { /* frees out->bytes on failure */
        return -1;
    }
    out->data = PyBytes_AS_STRING(out->bytes);
    out->cap = cap;
    return 0;
}

/* The zigzag varint of write_varint(), at most ten bytes. */
static inline void
put_varint(out_buffer *out, uint64_t zz)
{
    unsigned char *p = (unsigned char *)out->data + out->len;
    while (zz > 0x7F) {
        *p++ = (unsigned char)((zz & 0x7F) | 0x80);
        zz >>= 7;
    }
    *p++ = (unsigned char)zz;
    out->len = (char *)p - out->data;
}

static inline uint64_t
zigzag_encode(int64_t value)
{
    return ((uint64_t)value << 1) ^ (uint64_t)(value >> 63);
}

/* write_varint()'s ((value << 1) ^ (value >> 63)) & 0xFFFFFFFFFFFFFFFF done
 * with Python's operators: exact for ints past 64 bits (which it wraps as
 * Python does) and the same TypeError for what is not an int. */
static int
zigzag_slow(PyObject *value, uint64_t *zz)
{
    PyObject *one = PyLong_FromLong(1), *sixty_three = PyLong_FromLong(63);
    PyObject *mask = PyLong_FromUnsignedLongLong(UINT64_MAX);
    PyObject *left = NULL, *right = NULL, *mixed = NULL, *cut = NULL;
    if (one != NULL && sixty_three != NULL && mask != NULL) {
        left = PyNumber_Lshift(value, one);
    }
    if (left != NULL) {
        right = PyNumber_Rshift(value, sixty_three);
    }
    if (right != NULL) {
        mixed = PyNumber_Xor(left, right);
    }
    if (mixed != NULL) {
        cut = PyNumber_And(mixed, mask);
    }
    int result = -1;
    if (cut != NULL) {
        if (PyLong_Check(cut)) {
            *zz = PyLong_AsUnsignedLongLong(cut);
            result = (*zz == (uint64_t)-1 && PyErr_Occurred()) ? -1 : 0;
        }
        else {
            PyErr_Format(PyExc_TypeError, "a varint needs an int, got %.100s",
                         Py_TYPE(cut)->tp_name);
        }
    }
    Py_XDECREF(one);
    Py_XDECREF(sixty_three);
    Py_XDECREF(mask);
    Py_XDECREF(left);
    Py_XDECREF(right);
    Py_XDECREF(mixed);
    Py_XDECREF(cut);
    return result;
}

/* An exact int that fits 64 bits, or 0 to take the slow path. */
static inline int
small_int(PyObject *obj, int64_t *value)
{
    if (!PyLong_CheckExact(obj)) {
        return 0;
    }
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow || (v == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    *value = v;
    return 1;
}

/* The zigzag of `timestamp - base`, as Python computes the difference. */
static int
timestamp_zigzag(PyObject *timestamp, PyObject *base, int base_small, int64_t base_value,
                 uint64_t *zz)
{
    int64_t ts;
    if (base_small && small_int(timestamp, &ts) &&
        !((base_value < 0 && ts > INT64_MAX + base_value) ||
          (base_value > 0 && ts < INT64_MIN + base_value))) {
        *zz = zigzag_encode(ts - base_value);
        return 0;
    }
    PyObject *delta = PyNumber_Subtract(timestamp, base);
    if (delta == NULL) {
        return -1;
    }
    int result = zigzag_slow(delta, zz);
    Py_DECREF(delta);
    return result;
}

/* _write_bytes(): None is length -1; anything else len() bytes, then its
 * buffer, refused as bytearray's += refuses it. `nullable` is 0 for an
 * encoded header key, where None is an error as in Python. */
static int
put_bytes(out_buffer *out, PyObject *value, int nullable)
{
    if (value == Py_None && nullable) {
        if (out_reserve(out, 1) < 0) {
            return -1;
        }
        out->data[out->len++] = 1; /* zigzag of -1 */
        return 0;
    }
    if (PyBytes_CheckExact(value)) {
        Py_ssize_t size = PyBytes_GET_SIZE(value);
        if (out_reserve(out, 10 + size) < 0) {
            return -1;
        }
        put_varint(out, zigzag_encode(size));
        memcpy(out->data + out->len, PyBytes_AS_STRING(value), (size_t)size);
        out->len += size;
        return 0;
    }
    Py_ssize_t size = PyObject_Size(value);
    if (size < 0) {
        return -1;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(value, &view, PyBUF_SIMPLE) < 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "can't concat %.100s to bytearray", Py_TYPE(value)->tp_name);
        return -1;
    }
    int result = out_reserve(out, 10 + view.len);
    if (result == 0) {
        put_varint(out, zigzag_encode(size));
        memcpy(out->data + out->len, view.buf, (size_t)view.len);
        out->len += view.len;
    }
    PyBuffer_Release(&view);
    return result;
}

/* A field of a Header: its slot when `obj` is the configured class, built as
 * usual, else getattr. A new reference. */
static PyObject *
header_field(module_state *st, PyObject *obj, int index, PyObject *name)
{
    if (st->header.direct && Py_IS_TYPE(obj, st->header.type)) {
        PyObject *value = *(PyObject **)((char *)obj + st->header.offsets[index]);
        if (value != NULL) {
            return Py_NewRef(value);
        }
    }
    return PyObject_GetAttr(obj, name);
}

static int
put_header(module_state *st, out_buffer *out, PyObject *header)
{
    PyObject *key = header_field(st, header, 0, st->str_key);
    if (key == NULL) {
        return -1;
    }
    int result = -1;
    if (PyUnicode_CheckExact(key)) {
        Py_ssize_t size;
        const char *utf8 = PyUnicode_AsUTF8AndSize(key, &size);
        if (utf8 != NULL && out_reserve(out, 10 + size) == 0) {
            put_varint(out, zigzag_encode(size));
            memcpy(out->data + out->len, utf8, (size_t)size);
            out->len += size;
            result = 0;
        }
    }
    else {
        /* h.key.encode("utf-8"): a str subclass, or the AttributeError */
        PyObject *encoded = PyObject_CallMethodObjArgs(key, st->str_encode, st->str_utf8, NULL);
        if (encoded != NULL) {
            result = put_bytes(out, encoded, 0);
            Py_DECREF(encoded);
        }
    }
    Py_DECREF(key);
    if (result < 0) {
        return -1;
    }
    PyObject *value = header_field(st, header, 1, st->str_value);
    if (value == NULL) {
        return -1;
    }
    result = put_bytes(out, value, 1);
    Py_DECREF(value);
    return result;
}

/* tuple(headers) as _encode_record takes it; a list or tuple as it is. */
static int
put_headers(module_state *st, out_buffer *out, PyObject *headers)
{
    PyObject *seq;
    if (PyTuple_CheckExact(headers) || PyList_CheckExact(headers)) {
        seq = Py_NewRef(headers);
    }
    else {
        seq = PySequence_Tuple(headers);
        if (seq == NULL) {
            return -1;
        }
    }
    int result = out_reserve(out, 10);
    if (result == 0) {
        put_varint(out, zigzag_encode(PySequence_Fast_GET_SIZE(seq)));
    }
    /* a list may change under a header's __getattr__: index it afresh */
    for (Py_ssize_t i = 0; result == 0 && i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *header = Py_NewRef(PySequence_Fast_GET_ITEM(seq, i));
        result = put_header(st, out, header);
        Py_DECREF(header);
    }
    Py_DECREF(seq);
    return result;
}

/* One record: its length varint, then the body written ten bytes further on
 * and moved back once its length is known. */
static int
put_record(module_state *st, out_buffer *out, uint64_t offset_zz, uint64_t timestamp_zz,
           PyObject *key, PyObject *value, PyObject *headers)
{
    if (out_reserve(out, 10 + 1 + 10 + 10) < 0) {
        return -1;
    }
    Py_ssize_t start = out->len;
    out->len += 10;
    out->data[out->len++] = 0; /* attributes */
    put_varint(out, timestamp_zz);
    put_varint(out, offset_zz);
    if (put_bytes(out, key, 1) < 0 || put_bytes(out, value, 1) < 0) {
        return -1;
    }
    if (headers == NULL) {
        if (out_reserve(out, 1) < 0) {
            return -1;
        }
        out->data[out->len++] = 0; /* no headers */
    }
    else if (put_headers(st, out, headers) < 0) {
        return -1;
    }
    Py_ssize_t body = out->len - start - 10;
    out->len = start;
    put_varint(out, zigzag_encode(body));
    if (out->len != start + 10) {
        memmove(out->data + out->len, out->data + start + 10, (size_t)body);
    }
    out->len += body;
    return 0;
}

static PyObject *
sequence_arg(PyObject *obj, const char *name)
{
    if (PyList_CheckExact(obj) || PyTuple_CheckExact(obj)) {
        return Py_NewRef(obj);
    }
    PyObject *seq = PySequence_List(obj);
    if (seq == NULL && PyErr_ExceptionMatches(PyExc_TypeError)) {
        PyErr_Format(PyExc_TypeError, "encode_records() needs a sequence of %s, got %.100s",
                     name, Py_TYPE(obj)->tp_name);
    }
    return seq;
}

static PyObject *
encode(module_state *st, PyObject **columns, PyObject *base_timestamp)
{
    /* keys, values, timestamps, then headers and offset deltas or NULL */
    Py_ssize_t count = PySequence_Fast_GET_SIZE(columns[0]);
    for (int c = 1; c < 5; c++) {
        if (columns[c] != NULL && PySequence_Fast_GET_SIZE(columns[c]) != count) {
            PyErr_Format(PyExc_ValueError,
                         "encode_records() needs columns of one length, got %zd and %zd", count,
                         PySequence_Fast_GET_SIZE(columns[c]));
            return NULL;
        }
    }
    int64_t base_value = 0;
    int base_small = small_int(base_timestamp, &base_value);
    out_buffer out = {NULL, NULL, 0, 0};
    out.cap = count < 1024 ? 64 * (count + 1) : 64 * 1024;
    out.bytes = PyBytes_FromStringAndSize(NULL, out.cap);
    if (out.bytes == NULL) {
        return NULL;
    }
    out.data = PyBytes_AS_STRING(out.bytes);
    /* Items are read afresh each time: a field's __len__ or __getattr__ may
     * run Python code that changes a list. */
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *items[5] = {NULL, NULL, NULL, NULL, NULL};
        for (int c = 0; c < 5; c++) {
            if (columns[c] == NULL) {
                continue;
            }
            if (i >= PySequence_Fast_GET_SIZE(columns[c])) {
                PyErr_SetString(PyExc_RuntimeError, "a column changed size during encoding");
                goto item_error;
            }
            items[c] = Py_NewRef(PySequence_Fast_GET_ITEM(columns[c], i));
        }
        uint64_t offset_zz, timestamp_zz;
        int64_t offset;
        if (items[4] == NULL) {
            offset_zz = zigzag_encode(i);
        }
        else if (small_int(items[4], &offset)) {
            offset_zz = zigzag_encode(offset);
        }
        else if (zigzag_slow(items[4], &offset_zz) < 0) {
            goto item_error;
        }
        if (timestamp_zigzag(items[2], base_timestamp, base_small, base_value, &timestamp_zz) <
                0 ||
            put_record(st, &out, offset_zz, timestamp_zz, items[0], items[1], items[3]) < 0) {
            goto item_error;
        }
        for (int c = 0; c < 5; c++) {
            Py_XDECREF(items[c]);
        }
        continue;
    item_error:
        for (int c = 0; c < 5; c++) {
            Py_XDECREF(items[c]);
        }
        Py_XDECREF(out.bytes);
        return NULL;
    }
    if (_PyBytes_Resize(&out.bytes, out.len) < 0) {
        return NULL;
    }
    return out.bytes;
}

static PyObject *
encode_records(PyObject *module, PyObject *args)
{
    module_state *st = get_state(module);
    PyObject *args_in[6], *columns[5] = {NULL, NULL, NULL, NULL, NULL};
    static const char *const names[5] = {"keys", "values", "timestamps", "headers",
                                         "offset deltas"};
    if (check_configured(st) < 0 ||
        !PyArg_ParseTuple(args, "OOOOOO:encode_records", &args_in[0], &args_in[1], &args_in[2],
                          &args_in[3], &args_in[4], &args_in[5])) {
        return NULL;
    }
    /* headers and offset deltas may be None: no headers, deltas 0, 1, ... */
    PyObject *column_args[5] = {args_in[0], args_in[1], args_in[2], args_in[3], args_in[5]};
    PyObject *result = NULL;
    for (int c = 0; c < 5; c++) {
        if (c >= 3 && column_args[c] == Py_None) {
            continue;
        }
        columns[c] = sequence_arg(column_args[c], names[c]);
        if (columns[c] == NULL) {
            goto done;
        }
    }
    result = encode(st, columns, args_in[4]);
done:
    for (int c = 0; c < 5; c++) {
        Py_XDECREF(columns[c]);
    }
    return result;
}

/* ----------------------------------------------------------------- module */

/* compact_bytes(data): a copy of ``data`` (bytes) whose allocation fits its
 * length. orjson.dumps answers bytes with 1-4 KiB of spare capacity; kept
 * around (buffered state writes, pending output) that spare memory adds up
 * and fragments the heap. */
static PyObject *
compact_bytes(PyObject *module, PyObject *arg)
{
    if (!PyBytes_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "compact_bytes expects bytes, got %.100s",
                     Py_TYPE(arg)->tp_name);
        return NULL;
    }
    return PyBytes_FromStringAndSize(PyBytes_AS_STRING(arg), PyBytes_GET_SIZE(arg));
}

/* murmur2(data): Kafka's Utils.murmur2 of ``data`` (bytes or another
 * buffer) as an unsigned 32-bit int, the key hash of the default
 * partitioner; _murmur2_py in tidal.log.client.producer._partitioner is the
 * reference. */
static uint32_t
murmur2_hash(const unsigned char *data, Py_ssize_t length)
{
    const uint32_t m = 0x5bd1e995u;
    /* Java hashes an int length: keys are far below 2 GiB (max_request_size) */
    uint32_t h = 0x9747b28cu ^ (uint32_t)length;
    Py_ssize_t whole = length & ~(Py_ssize_t)3;
    for (Py_ssize_t i = 0; i < whole; i += 4) {
        uint32_t k = (uint32_t)data[i] | ((uint32_t)data[i + 1] << 8) |
                     ((uint32_t)data[i + 2] << 16) | ((uint32_t)data[i + 3] << 24);
        k *= m;
        k ^= k >> 24;
        k *= m;
        h = (h * m) ^ k;
    }
    switch (length & 3) {
    case 3:
        h ^= (uint32_t)data[whole + 2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t)data[whole + 1] << 8;
        /* fall through */
    case 1:
        h ^= (uint32_t)data[whole];
        h *= m;
        break;
    default:
        break;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return h;
}

static PyObject *
murmur2(PyObject *module, PyObject *arg)
{
    if (PyBytes_Check(arg)) {
        return PyLong_FromUnsignedLong(murmur2_hash(
            (const unsigned char *)PyBytes_AS_STRING(arg), PyBytes_GET_SIZE(arg)));
    }
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "murmur2 expects bytes, got %.100s",
                     Py_TYPE(arg)->tp_name);
        return NULL;
    }
    uint32_t h = murmur2_hash((const unsigned char *)view.buf, view.len);
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLong(h);
}

static PyMethodDef methods[] = {
    {"configure", configure, METH_VARARGS,
     "configure(corrupt_error, invalid_error, record_class, header_class)\n--\n\n"
     "Set the exception classes raised and the classes built; call once at import."},
    {"walk_records", walk_records, METH_VARARGS,
     "walk_records(data, count, last_offset_delta, reject_null_keys=False, /)\n--\n\n"
     "Structural check of a records section, as _batch._walk_records_py."},
    {"decode_records", decode_records, METH_VARARGS,
     "decode_records(data, count, base_offset, base_timestamp, log_append_time, /)\n--\n\n"
     "Decode a records section into Record objects, as _batch._decode_records_py."},
    {"decode_records_into", decode_records_into, METH_VARARGS,
     "decode_records_into(record_class, data, count, base_offset, base_timestamp,\n"
     "                    log_append_time, min_offset, topic, partition, timestamp_type,\n"
     "                    untrack, out, /)\n--\n\n"
     "Append consumer records of a records section to out, as "
     "_batch._decode_records_into_py."},
    {"encode_records", encode_records, METH_VARARGS,
     "encode_records(keys, values, timestamps, headers, base_timestamp, offset_deltas, /)\n--\n\n"
     "Encode a records section from parallel lists, as _batch._encode_records_py."},
    {"compact_bytes", compact_bytes, METH_O,
     "compact_bytes(data, /)\n--\n\n"
     "A copy of data whose allocation fits its length."},
    {"murmur2", murmur2, METH_O,
     "murmur2(data, /)\n--\n\n"
     "Kafka's Utils.murmur2 of data as an unsigned 32-bit int."},
    {NULL, NULL, 0, NULL},
};

static int
module_traverse(PyObject *module, visitproc visit, void *arg)
{
    module_state *st = get_state(module);
    Py_VISIT(st->corrupt_error);
    Py_VISIT(st->invalid_error);
    Py_VISIT(st->record.type);
    Py_VISIT(st->header.type);
    Py_VISIT(st->consumer_type);
    Py_VISIT(st->str_key);
    Py_VISIT(st->str_value);
    Py_VISIT(st->str_encode);
    Py_VISIT(st->str_utf8);
    return 0;
}

static int
module_clear(PyObject *module)
{
    module_state *st = get_state(module);
    Py_CLEAR(st->corrupt_error);
    Py_CLEAR(st->invalid_error);
    Py_CLEAR(st->record.type);
    Py_CLEAR(st->header.type);
    Py_CLEAR(st->consumer_type);
    Py_CLEAR(st->str_key);
    Py_CLEAR(st->str_value);
    Py_CLEAR(st->str_encode);
    Py_CLEAR(st->str_utf8);
    return 0;
}

static void
module_free(void *module)
{
    module_clear((PyObject *)module);
}

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "tidal.log.records._speedups",
    .m_doc = "Compiled record walker, decoder and encoder; see tidal.log.records._batch.",
    .m_size = sizeof(module_state),
    .m_methods = methods,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    PyObject *module = PyModule_Create(&speedups_module);
    if (module == NULL) {
        return NULL;
    }
    module_state *st = get_state(module);
    memset(st, 0, sizeof(module_state));
    st->str_key = PyUnicode_InternFromString("key");
    st->str_value = PyUnicode_InternFromString("value");
    st->str_encode = PyUnicode_InternFromString("encode");
    st->str_utf8 = PyUnicode_InternFromString("utf-8");
    if (st->str_key == NULL || st->str_value == NULL || st->str_encode == NULL ||
        st->str_utf8 == NULL) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
