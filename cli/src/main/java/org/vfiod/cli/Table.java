package org.vfiod.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * A plain text table: a header row, columns left-aligned and separated by two spaces, the last column not padded
 * (so long names never push the others out of line) and no trailing blanks. Empty cells show as {@code -}; control
 * characters in cells are replaced, so nothing a device reports can move the terminal's cursor.
 */
final class Table {
    private final List<String[]> rows = new ArrayList<>();
    private final int columns;

    Table(String... headers) {
        this.columns = headers.length;
        rows.add(headers.clone());
    }

    Table add(String... cells) {
        if (cells.length != columns) throw new IllegalArgumentException(cells.length + " cells for " + columns + " columns");
        String[] row = new String[columns];
        for (int i = 0; i < columns; i++) {
            row[i] = cells[i] == null || cells[i].isEmpty() ? "-" : Exit.oneLine(cells[i]);
        }
        rows.add(row);
        return this;
    }

    @Override
    public String toString() {
        int[] width = new int[columns];
        for (String[] r : rows) {
            for (int i = 0; i < columns; i++) width[i] = Math.max(width[i], r[i].length());
        }
        StringBuilder b = new StringBuilder();
        for (String[] r : rows) {
            int lineStart = b.length();
            for (int i = 0; i < columns; i++) {
                b.append(r[i]);
                if (i < columns - 1) b.append(" ".repeat(width[i] - r[i].length() + 2));
            }
            int end = b.length();
            while (end > lineStart && b.charAt(end - 1) == ' ') end--;
            b.setLength(end);
            b.append('\n');
        }
        return b.toString();
    }
}
