package dev.kafkareranker.eval;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.BoostQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.similarities.BM25Similarity;
import org.apache.lucene.store.ByteBuffersDirectory;

/**
 * The first stage: BM25 over an in-memory Lucene index of a collection's documents.
 *
 * <p>Text goes through Lucene's {@link EnglishAnalyzer} (standard tokenizer, lower case, English stop
 * words, Porter stemming) rather than {@code StandardAnalyzer}, whose stop-word set is empty since
 * Lucene 8: test queries are sentences ("the crystalline lens in vertebrates, including humans"), so
 * without stop words "the" and "in" match nearly every document, and without stemming "correlations" misses
 * "correlated". BM25 keeps Lucene's defaults, k1 = 1.2 and b = 0.75.
 *
 * <p>The whole collection is held in memory: right for MED's 1,033 abstracts and BEIR's smaller sets,
 * not for MS MARCO-sized corpora.
 */
public final class Bm25Retriever implements AutoCloseable {

    private static final String ID = "id";
    private static final String BODY = "body";

    /** One retrieved document. @param rank 1 = best */
    public record Hit(String docId, float score, int rank) {
    }

    private final Analyzer analyzer;
    private final ByteBuffersDirectory directory;
    private final DirectoryReader reader;
    private final IndexSearcher searcher;

    private Bm25Retriever(Analyzer analyzer, ByteBuffersDirectory directory, DirectoryReader reader) {
        this.analyzer = analyzer;
        this.directory = directory;
        this.reader = reader;
        this.searcher = new IndexSearcher(reader);
        searcher.setSimilarity(new BM25Similarity());
    }

    /** Indexes the documents (id to text); the retriever is ready for {@link #search} when this returns. */
    public static Bm25Retriever index(Map<String, String> documents) {
        Analyzer analyzer = new EnglishAnalyzer();
        ByteBuffersDirectory directory = new ByteBuffersDirectory();
        try {
            IndexWriterConfig config = new IndexWriterConfig(analyzer).setSimilarity(new BM25Similarity());
            try (IndexWriter writer = new IndexWriter(directory, config)) {
                for (Map.Entry<String, String> doc : documents.entrySet()) {
                    Document d = new Document();
                    d.add(new StringField(ID, doc.getKey(), Field.Store.YES));
                    d.add(new TextField(BODY, doc.getValue(), Field.Store.NO));
                    writer.addDocument(d);
                }
            }
            return new Bm25Retriever(analyzer, directory, DirectoryReader.open(directory));
        } catch (IOException e) {
            // Nothing on disk: ByteBuffersDirectory only throws here if Lucene itself fails.
            analyzer.close();
            throw new UncheckedIOException("Cannot build the in-memory BM25 index", e);
        }
    }

    public int documentCount() {
        return reader.numDocs();
    }

    /**
     * The best {@code k} documents for the query, best first; ties in score keep index (file) order.
     * Empty when no query term survives analysis (a query of stop words only) or none occurs.
     */
    public List<Hit> search(String queryText, int k) {
        if (k < 1) {
            throw new IllegalArgumentException("k < 1: " + k);
        }
        Query query = parse(queryText);
        if (query == null) {
            return List.of();
        }
        try {
            ScoreDoc[] top = searcher.search(query, k).scoreDocs;
            StoredFields stored = searcher.storedFields();
            List<Hit> hits = new ArrayList<>(top.length);
            for (int i = 0; i < top.length; i++) {
                hits.add(new Hit(stored.document(top[i].doc).get(ID), top[i].score, i + 1));
            }
            return hits;
        } catch (IOException e) {
            throw new UncheckedIOException("BM25 search failed for query '" + queryText + "'", e);
        }
    }

    /**
     * A disjunction of the query's analyzed terms, a term that occurs n times boosted n times: the same
     * scores as repeating the clause (query term frequency), in fewer clauses. Written by hand rather
     * than with Lucene's QueryParser, which would need another jar and treats characters such as
     * {@code - + ( " :} in queries as syntax.
     */
    Query parse(String queryText) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        try (TokenStream tokens = analyzer.tokenStream(BODY, queryText)) {
            CharTermAttribute term = tokens.addAttribute(CharTermAttribute.class);
            tokens.reset();
            while (tokens.incrementToken()) {
                counts.merge(term.toString(), 1, Integer::sum);
            }
            tokens.end();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot analyze query '" + queryText + "'", e);
        }
        if (counts.isEmpty()) {
            return null;
        }
        BooleanQuery.Builder query = new BooleanQuery.Builder();
        // Lucene refuses more clauses than this (1024 by default); only very long queries reach it,
        // and their first terms are kept.
        counts.entrySet().stream().limit(IndexSearcher.getMaxClauseCount()).forEach(e -> {
            Query termQuery = new TermQuery(new Term(BODY, e.getKey()));
            query.add(e.getValue() == 1 ? termQuery : new BoostQuery(termQuery, e.getValue()), BooleanClause.Occur.SHOULD);
        });
        return query.build();
    }

    @Override
    public void close() {
        try (analyzer; directory; reader) {
            // closed in reverse order: reader, directory, analyzer
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot close the BM25 index", e);
        }
    }
}
