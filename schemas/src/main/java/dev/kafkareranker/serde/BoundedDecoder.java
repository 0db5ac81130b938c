package dev.kafkareranker.serde;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.io.Decoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.util.Utf8;

/**
 * An Avro binary decoder over one record's bytes that refuses any length or item count larger than the
 * bytes the record still holds, before anything is allocated for it.
 *
 * <p>Why: Avro allocates what a length claims ({@code org.apache.avro.limits.*} only caps it at about 2 GB
 * per string, whatever the record's size), so a 100-byte record claiming a 2 GB string is an
 * OutOfMemoryError on a small heap, and one crafted record stops every stream thread that meets it. Here
 * allocation is bounded by the record itself: a string or bytes value cannot be longer than the bytes left,
 * and a block of array or map items cannot count more items than bytes left (every item of every type in
 * this project's contracts takes at least one byte; an array of zero-byte items, such as nulls, longer than
 * the record is refused, a legal but absurd encoding no producer of these contracts writes).
 *
 * <p>It reads with Avro's unbuffered decoder over a {@link ByteArrayInputStream}, whose {@code available()}
 * is then exactly the bytes not yet read, which also tells the caller about trailing bytes.
 */
final class BoundedDecoder extends Decoder {

    private final Decoder in;
    private final ByteArrayInputStream stream;
    private final int size;

    BoundedDecoder(byte[] bytes, int offset, int length) {
        this.stream = new ByteArrayInputStream(bytes, offset, length);
        this.in = DecoderFactory.get().directBinaryDecoder(stream, null);
        this.size = length;
    }

    /** The bytes not read yet. */
    int remaining() {
        return stream.available();
    }

    private int checkLength(long length, String what) {
        int left = remaining();
        if (length < 0) {
            throw new AvroRuntimeException("a " + what + " has the negative length " + length);
        }
        if (length > left) {
            throw new AvroRuntimeException("a " + what + " claims " + length + " bytes but only " + left
                    + " of the record's " + size + " bytes are left");
        }
        return (int) length;
    }

    private long checkCount(long count, String what) {
        // A negative block count is Avro's "count, then byte size" form: the decoder below has already read the
        // size and returns the count as positive, so any count seen here is the number of items to come.
        int left = remaining();
        if (count > left) {
            throw new AvroRuntimeException("a block of " + what + " claims " + count + " items but only " + left
                    + " of the record's " + size + " bytes are left");
        }
        return count;
    }

    @Override
    public void readNull() throws IOException {
        in.readNull();
    }

    @Override
    public boolean readBoolean() throws IOException {
        return in.readBoolean();
    }

    @Override
    public int readInt() throws IOException {
        return in.readInt();
    }

    @Override
    public long readLong() throws IOException {
        return in.readLong();
    }

    @Override
    public float readFloat() throws IOException {
        return in.readFloat();
    }

    @Override
    public double readDouble() throws IOException {
        return in.readDouble();
    }

    @Override
    public Utf8 readString(Utf8 old) throws IOException {
        int length = checkLength(in.readLong(), "string");
        Utf8 result = old != null ? old : new Utf8();
        result.setByteLength(length);
        if (length > 0) {
            in.readFixed(result.getBytes(), 0, length);
        }
        return result;
    }

    @Override
    public String readString() throws IOException {
        return readString(null).toString();
    }

    @Override
    public void skipString() throws IOException {
        in.skipFixed(checkLength(in.readLong(), "string"));
    }

    @Override
    public ByteBuffer readBytes(ByteBuffer old) throws IOException {
        int length = checkLength(in.readLong(), "bytes value");
        ByteBuffer result = old != null && old.hasArray() && !old.isReadOnly() && old.capacity() >= length
                ? old : ByteBuffer.allocate(length);
        result.clear();
        in.readFixed(result.array(), result.arrayOffset(), length);
        result.limit(length);
        return result;
    }

    @Override
    public void skipBytes() throws IOException {
        in.skipFixed(checkLength(in.readLong(), "bytes value"));
    }

    @Override
    public void readFixed(byte[] bytes, int start, int length) throws IOException {
        checkLength(length, "fixed value");
        in.readFixed(bytes, start, length);
    }

    @Override
    public void skipFixed(int length) throws IOException {
        in.skipFixed(checkLength(length, "fixed value"));
    }

    @Override
    public int readEnum() throws IOException {
        return in.readEnum();
    }

    @Override
    public long readArrayStart() throws IOException {
        return checkCount(in.readArrayStart(), "array items");
    }

    @Override
    public long arrayNext() throws IOException {
        return checkCount(in.arrayNext(), "array items");
    }

    @Override
    public long skipArray() throws IOException {
        return checkCount(in.skipArray(), "array items");
    }

    @Override
    public long readMapStart() throws IOException {
        return checkCount(in.readMapStart(), "map entries");
    }

    @Override
    public long mapNext() throws IOException {
        return checkCount(in.mapNext(), "map entries");
    }

    @Override
    public long skipMap() throws IOException {
        return checkCount(in.skipMap(), "map entries");
    }

    @Override
    public int readIndex() throws IOException {
        return in.readIndex();
    }
}
