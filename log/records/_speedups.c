/*
 * Compiled record walker and decoder for tidal.log.records._batch.
 *
 * Both functions take the records section of a batch (after the 61-byte
 * header, decompressed) and mirror _walk_records_py and _decode_records_py
 * in _batch.py exactly: the same checks in the same order, the same
 * exception classes and the same messages. The Python versions stay the
 * reference; tests/log/records/test_speedups.py compares the two on random
 * and mutated batches.
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
} module_state;

static const char *const record_field_names[RECORD_FIELDS] = {
    "offset", "timestamp", "key", "value", "headers",
};
static const char *const header_field_names[HEADER_FIELDS] = {"key", "value"};

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

static PyObject *
decode_headers(module_state *st, const unsigned char *data, Py_ssize_t *pos,
               Py_ssize_t record_end)
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
        PyObject *header = new_instance(&st->header, values, HEADER_FIELDS);
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
            fields[4] = decode_headers(st, data, &pos, record_end);
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

/* ----------------------------------------------------------------- module */

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
    .m_doc = "Compiled record walker and decoder; see tidal.log.records._batch.",
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
    if (module != NULL) {
        memset(get_state(module), 0, sizeof(module_state));
    }
    return module;
}
