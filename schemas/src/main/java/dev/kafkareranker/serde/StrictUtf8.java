package dev.kafkareranker.serde;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import org.apache.avro.AvroTypeException;
import org.apache.avro.Conversions;
import org.apache.avro.data.TimeConversions;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.Decoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.util.Utf8;

/**
 * Avro readers that refuse strings which are not valid UTF-8. Avro itself decodes them with
 * replacement characters, which would score mangled text and hide a broken producer; refusing makes
 * the record a dead letter that says which bytes were wrong.
 */
final class StrictUtf8 {

    private StrictUtf8() {
    }

    static Object read(Decoder in, Schema expected) throws IOException {
        Utf8 utf8 = in.readString(null);
        try {
            StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(utf8.getBytes(), 0, utf8.getByteLength()));
        } catch (CharacterCodingException e) {
            throw new AvroTypeException("a string field holds " + utf8.getByteLength() + " bytes that are not valid UTF-8");
        }
        return "String".equals(expected.getProp(GenericData.STRING_PROP)) ? utf8.toString() : utf8;
    }

    /**
     * Avro's fast reader builds its own string readers and never calls {@code readString}, so these
     * readers run on data models with it turned off.
     */
    private static SpecificData specificData() {
        SpecificData data = new SpecificData();
        data.setFastReaderEnabled(false);
        // The logical types the generated classes use (java.time, UUID, BigDecimal), as SpecificData.get() has them.
        data.addLogicalTypeConversion(new TimeConversions.TimestampMillisConversion());
        data.addLogicalTypeConversion(new TimeConversions.TimestampMicrosConversion());
        data.addLogicalTypeConversion(new TimeConversions.LocalTimestampMillisConversion());
        data.addLogicalTypeConversion(new TimeConversions.LocalTimestampMicrosConversion());
        data.addLogicalTypeConversion(new TimeConversions.DateConversion());
        data.addLogicalTypeConversion(new TimeConversions.TimeMillisConversion());
        data.addLogicalTypeConversion(new TimeConversions.TimeMicrosConversion());
        data.addLogicalTypeConversion(new Conversions.DecimalConversion());
        data.addLogicalTypeConversion(new Conversions.UUIDConversion());
        return data;
    }

    private static GenericData genericData() {
        GenericData data = new GenericData();
        data.setFastReaderEnabled(false);
        return data;
    }

    static final class Specific<T> extends SpecificDatumReader<T> {
        Specific(Schema writer, Schema reader) {
            super(writer, reader, specificData());
        }

        @Override
        protected Object readString(Object old, Schema expected, Decoder in) throws IOException {
            return StrictUtf8.read(in, expected);
        }
    }

    static final class Generic<T> extends GenericDatumReader<T> {
        Generic(Schema writer) {
            super(writer, writer, genericData());
        }

        @Override
        protected Object readString(Object old, Schema expected, Decoder in) throws IOException {
            return StrictUtf8.read(in, expected);
        }
    }
}
