package dev.kafkareranker.inference;

import java.util.ArrayList;
import java.util.List;

/**
 * Padded widths grouped into classes: up to {@value #FIRST_TOP} tokens, then each power of two, the last class
 * ending at the model's maximum length. A batch's memory is bounded at the top of its class, what the sizer
 * learns after an allocation failure applies to the class, and a TensorRT engine gets one shape profile per
 * class. Powers of two keep the classes few (TensorRT builds kernels per profile) at the cost of sizing a batch
 * as if it were up to twice as wide as it is.
 */
final class WidthClasses {

    /** Short rows are cheap whatever their width; one class holds them all. */
    static final int FIRST_TOP = 64;

    private final int[] tops;

    WidthClasses(int maxLength) {
        if (maxLength < 1) {
            throw new IllegalArgumentException("max length < 1: " + maxLength);
        }
        List<Integer> out = new ArrayList<>();
        for (int top = FIRST_TOP; top < maxLength; top *= 2) {
            out.add(top);
        }
        out.add(maxLength);
        this.tops = out.stream().mapToInt(Integer::intValue).toArray();
    }

    int count() {
        return tops.length;
    }

    /** The class of a batch padded to {@code width} tokens (the last one for anything wider than the maximum). */
    int indexOf(int width) {
        for (int i = 0; i < tops.length; i++) {
            if (width <= tops[i]) {
                return i;
            }
        }
        return tops.length - 1;
    }

    /** The widest batch of class {@code index}. */
    int top(int index) {
        return tops[index];
    }

    /** The narrowest batch of class {@code index}. */
    int bottom(int index) {
        return index == 0 ? 1 : tops[index - 1] + 1;
    }
}
