// Generation (greedy against a recompute reference, sampling controls, stop strings,
// UTF-8 streaming, cancel) and perplexity (AutoAWQ's windowing).

#include <set>

#include <QtTest>

#include <cmath>

#include <ATen/ATen.h>

#include "awq/core/error.h"
#include "awq/runtime/decoder_model.h"
#include "awq/eval/perplexity.h"
#include "awq/runtime/generator.h"
#include "awq/runtime/loaded_model.h"
#include "awq/runtime/sampler.h"
#include "awq/runtime/threads.h"
#include "awq/runtime/utf8_stream.h"
#include "awq/tokenizer/tokenizer.h"
#include "fixture_model.h"

using namespace awq;

class TestGeneration : public QObject
{
    Q_OBJECT
    LoadedModel m_loaded;

private Q_SLOTS:
    void initTestCase()
    {
        configureThreads();
        awq::test::FixtureSpec spec;
        spec.numKvHeads = 2;
        m_loaded = loadModel(awq::test::makeFixtureModel(awq::test::makeTempDir("generation"), spec));
    }

    void greedyMatchesArgmaxOfRecompute()
    {
        GenerationRequest request;
        request.promptIds = m_loaded.tokenizer->encode("The old sailor walked");
        request.sampling.maxNewTokens = 12;
        request.stopAtEos = false;
        ReferenceDecoder decoder(*m_loaded.model);
        Generator generator(decoder, *m_loaded.tokenizer);
        const auto result = generator.generate(request);
        QCOMPARE(result.tokens.size(), size_t(12));

        std::vector<int64_t> context(request.promptIds.begin(), request.promptIds.end());
        at::NoGradGuard noGrad;
        for (int32_t token : result.tokens) {
            auto logits = m_loaded.model->forward(at::tensor(context).unsqueeze(0));
            QCOMPARE(logits[0][logits.size(1) - 1].argmax().item<int64_t>(), int64_t(token));
            context.push_back(token);
        }
        QCOMPARE(result.text, m_loaded.tokenizer->decode(result.tokens));
        QVERIFY(result.decodeTokensPerSecond() > 0);
    }

    void streamedPiecesConcatenateToText()
    {
        GenerationRequest request;
        request.promptIds = m_loaded.tokenizer->encode("A young teacher");
        request.sampling.maxNewTokens = 20;
        request.sampling.temperature = 1.0;
        request.sampling.seed = 7;
        request.stopAtEos = false;
        std::string streamed;
        int calls = 0;
        ReferenceDecoder decoder(*m_loaded.model);
        Generator generator(decoder, *m_loaded.tokenizer);
        const auto result = generator.generate(request, [&](const std::string &piece, int32_t) {
            streamed += piece;
            ++calls;
            return true;
        });
        QCOMPARE(streamed, result.text);
        QVERIFY(calls > 0);
    }

    void samplingIsDeterministicPerSeed()
    {
        ReferenceDecoder decoder(*m_loaded.model);
        Generator generator(decoder, *m_loaded.tokenizer);
        auto run = [&](uint64_t seed) {
            GenerationRequest r;
            r.promptIds = m_loaded.tokenizer->encode("My neighbour");
            r.sampling.temperature = 1.5;
            r.sampling.topP = 0.95;
            r.sampling.seed = seed;
            r.sampling.maxNewTokens = 24;
            r.stopAtEos = false;
            return generator.generate(r).tokens;
        };
        QCOMPARE(run(1), run(1));
        QVERIFY(run(1) != run(2));
    }

    void samplerControls()
    {
        auto logits = at::tensor(std::vector<float>{1.0f, 3.0f, 2.9f, -1.0f});
        SamplingParams greedy;
        QCOMPARE(Sampler(greedy).sample(logits, {}), 1);
        // Repetition penalty (transformers' rule) turns the choice to token 2.
        SamplingParams penalised;
        penalised.repetitionPenalty = 1.5;
        QCOMPARE(Sampler(penalised).sample(logits, {1}), 2);
        // top-k 1 is greedy whatever the temperature.
        SamplingParams topK;
        topK.temperature = 5.0;
        topK.topK = 1;
        Sampler k(topK);
        for (int i = 0; i < 50; ++i)
            QCOMPARE(k.sample(logits, {}), 1);
        // top-p keeps only the smallest set reaching p: tokens 1 and 2 here.
        SamplingParams topP;
        topP.temperature = 1.0;
        topP.topP = 0.8;
        Sampler p(topP);
        for (int i = 0; i < 200; ++i) {
            const int32_t t = p.sample(logits, {});
            QVERIFY(t == 1 || t == 2);
        }
        SamplingParams bad;
        bad.topP = 0;
        QVERIFY_THROWS_EXCEPTION(awq::Error, bad.validate());
        bad = {};
        bad.minP = 1.5;
        QVERIFY_THROWS_EXCEPTION(awq::Error, bad.validate());
        bad = {};
        bad.frequencyPenalty = 2.5;
        QVERIFY_THROWS_EXCEPTION(awq::Error, bad.validate());
    }

    void minPPresenceFrequencyAndVocabLimit()
    {
        // probabilities at temperature 1: token 1 ~ 0.48, token 2 ~ 0.43, token 0 ~ 0.06, token 3 ~ 0.01
        auto logits = at::tensor(std::vector<float>{1.0f, 3.0f, 2.9f, -1.0f});
        SamplingParams minP;
        minP.temperature = 1.0;
        minP.minP = 0.5; // keeps tokens with at least half the top token's probability: 1 and 2
        Sampler m(minP);
        std::set<int32_t> seen;
        for (int i = 0; i < 300; ++i)
            seen.insert(m.sample(logits, {}));
        QCOMPARE(seen, (std::set<int32_t>{1, 2}));
        minP.minP = 0.95; // only the top token
        Sampler top(minP);
        for (int i = 0; i < 50; ++i)
            QCOMPARE(top.sample(logits, {}), 1);

        // Presence and frequency penalties count the generated tokens only (the last
        // `generated` of the context), not the prompt.
        SamplingParams presence;
        presence.presencePenalty = 0.2;
        QCOMPARE(Sampler(presence).sample(logits, {1}, 0), 1); // token 1 in the prompt: no penalty
        QCOMPARE(Sampler(presence).sample(logits, {1}, 1), 2); // generated once: 3.0 - 0.2 < 2.9
        SamplingParams frequency;
        frequency.frequencyPenalty = 0.04;
        QCOMPARE(Sampler(frequency).sample(logits, {1, 1}, 2), 1); // 3.0 - 0.08 > 2.9
        QCOMPARE(Sampler(frequency).sample(logits, {1, 1, 1}, 3), 2); // 3.0 - 0.12 < 2.9

        // A vocabulary limit masks the padding rows past the tokenizer, greedy or not.
        auto padded = at::tensor(std::vector<float>{1.0f, 2.0f, 9.0f, 8.0f});
        SamplingParams limited;
        limited.vocabLimit = 2;
        QCOMPARE(Sampler(limited).sample(padded, {}), 1);
        limited.temperature = 2.0;
        Sampler l(limited);
        for (int i = 0; i < 100; ++i)
            QVERIFY(l.sample(padded, {}) < 2);
    }

    // A generated <0x00> byte piece is text like any other: the stream carries the NUL and
    // what follows it (the sentencepiece shim once returned C strings, which cut both off).
    // The fixture's lm_head favours <0x00>, then "▁the": with a repetition penalty the
    // second token is "▁the", then <0x00> again.
    void nulBytesStreamWithWhatFollows()
    {
        auto spm = Tokenizer::fromSentencePieceFile(awq::test::fixtureTokenizerModel());
        const int32_t nul = spm->pieceToId("<0x00>"), the = spm->pieceToId("\xE2\x96\x81the");
        QVERIFY(nul >= 0 && the >= 0);
        const std::string nulThe("\0 the", 5);
        QCOMPARE(spm->decode({nul, the, nul}), nulThe + std::string(1, '\0'));

        awq::test::FixtureSpec spec;
        spec.favouredTokens = {nul, the};
        LoadedModel m = loadModel(awq::test::makeFixtureModel(awq::test::makeTempDir("nul"), spec));
        GenerationRequest request;
        request.promptIds = m.tokenizer->encode("The old sailor");
        request.sampling.maxNewTokens = 4;
        request.sampling.repetitionPenalty = 1.5;
        request.stopAtEos = false;
        std::string streamed;
        ReferenceDecoder decoder(*m.model);
        const auto result = Generator(decoder, *m.tokenizer).generate(request, [&](const std::string &text, int32_t) {
            streamed += text;
            return true;
        });
        QCOMPARE(result.tokens, (std::vector<int32_t>{nul, the, nul, nul}));
        QCOMPARE(result.text, nulThe + std::string(2, '\0'));
        QCOMPARE(streamed, result.text);
    }

    // Embedding rows past the tokenizer (vocab_size 448 over the fixture's 384 tokens, as
    // Phi-3, Qwen2 and Llama 3 pad theirs) have no text: they are never sampled, even when
    // they would win, and generation goes on with the best decodable token.
    void paddingIdsAreNeverSampled()
    {
        awq::test::FixtureSpec spec;
        spec.vocabSize = 448;
        spec.favouredTokens = {440, 400};
        LoadedModel m = loadModel(awq::test::makeFixtureModel(awq::test::makeTempDir("padded"), spec));
        QCOMPARE(m.config.vocabSize, int64_t(448));
        QCOMPARE(m.tokenizer->vocabSize(), 384);
        at::NoGradGuard noGrad;
        auto logits = m.model->forward(at::tensor(std::vector<int64_t>{1, 50, 60}).unsqueeze(0))[0][2];
        QCOMPARE(logits.argmax().item<int64_t>(), int64_t(440)); // a padding row wins
        for (double temperature : {0.0, 1.0}) {
            GenerationRequest request;
            request.promptIds = m.tokenizer->encode("The old sailor");
            request.sampling.maxNewTokens = 8;
            request.sampling.temperature = temperature;
            request.stopAtEos = false;
            ReferenceDecoder decoder(*m.model);
            const auto result = Generator(decoder, *m.tokenizer).generate(request);
            QCOMPARE(result.tokens.size(), size_t(8));
            for (int32_t id : result.tokens)
                QVERIFY(id < 384);
            QCOMPARE(result.text, m.tokenizer->decode(result.tokens));
        }
    }

    void utf8PrefixRules()
    {
        QCOMPARE(completeUtf8Prefix("abc"), size_t(3));
        QCOMPARE(completeUtf8Prefix("a\xC3"), size_t(1));          // é cut after its lead byte
        QCOMPARE(completeUtf8Prefix("a\xC3\xA9"), size_t(3));
        QCOMPARE(completeUtf8Prefix("\xE6\x97"), size_t(0));       // 日 missing its last byte
        QCOMPARE(completeUtf8Prefix("x\xF0\x9F\x98"), size_t(1));  // emoji missing one byte
        QCOMPARE(completeUtf8Prefix("x\xF0\x9F\x98\x80"), size_t(5));
    }

    void byteFallbackStreamsWholeCharacters()
    {
        // "é日😀" is unseen by the fixture tokenizer: it encodes as byte tokens.
        const std::string text = "ok \xC3\xA9\xE6\x97\xA5\xF0\x9F\x98\x80 done";
        const auto ids = m_loaded.tokenizer->encode(text, false);
        TextStream stream(*m_loaded.tokenizer, {});
        std::string out;
        for (int32_t id : ids) {
            const std::string piece = stream.push(id);
            QCOMPARE(completeUtf8Prefix(piece), piece.size());
            out += piece;
        }
        out += stream.flush();
        QCOMPARE(out, text);
    }

    // A continuation keeps the space its first piece starts with: prompt + stream == text.
    void continuationKeepsItsLeadingSpace()
    {
        const auto ids = m_loaded.tokenizer->encode("the city council of the town", false);
        // Split where the continuation's first piece begins with a word ("▁...").
        size_t split = 1;
        while (split < ids.size() && m_loaded.tokenizer->idToPiece(ids[split]).rfind("\xE2\x96\x81", 0) != 0)
            ++split;
        QVERIFY(split < ids.size());
        const std::vector<int32_t> prompt(ids.begin(), ids.begin() + static_cast<long>(split));
        TextStream stream(*m_loaded.tokenizer, {}, prompt.back());
        std::string out = m_loaded.tokenizer->decode(prompt);
        for (size_t i = split; i < ids.size(); ++i)
            out += stream.push(ids[i]);
        out += stream.flush();
        QCOMPARE(out, std::string("the city council of the town"));
    }

    void stopStringEndsTextBeforeIt()
    {
        const auto ids = m_loaded.tokenizer->encode("one two. END three four", false);
        TextStream stream(*m_loaded.tokenizer, {"END"});
        std::string out;
        for (int32_t id : ids) {
            out += stream.push(id);
            if (stream.stopped())
                break;
        }
        QVERIFY(stream.stopped());
        QCOMPARE(out, std::string("one two. "));
    }

    void cancelAndCallbackStop()
    {
        ReferenceDecoder decoder(*m_loaded.model);
        Generator generator(decoder, *m_loaded.tokenizer);
        GenerationRequest r;
        r.promptIds = m_loaded.tokenizer->encode("The clock");
        r.sampling.maxNewTokens = 50;
        r.stopAtEos = false;
        CancelToken cancel;
        cancel.cancel();
        auto cancelled = generator.generate(r, {}, cancel);
        QVERIFY(cancelled.stopReason == StopReason::Cancelled);
        QVERIFY(cancelled.tokens.empty());

        int pieces = 0;
        auto stopped = generator.generate(r, [&](const std::string &, int32_t) { return ++pieces < 3; });
        QVERIFY(stopped.stopReason == StopReason::Callback);
        QCOMPARE(pieces, 3);
    }

    void contextLimit()
    {
        ReferenceDecoder decoder(*m_loaded.model);
        Generator generator(decoder, *m_loaded.tokenizer, 16);
        GenerationRequest r;
        r.promptIds = std::vector<int32_t>(10, 5);
        r.sampling.maxNewTokens = 100;
        r.stopAtEos = false;
        auto result = generator.generate(r);
        QVERIFY(result.stopReason == StopReason::ContextFull);
        QCOMPARE(result.tokens.size(), size_t(6));
        r.promptIds = std::vector<int32_t>(16, 5);
        QVERIFY_THROWS_EXCEPTION(awq::Error, generator.generate(r));
    }

    void perplexityMatchesManualWindows()
    {
        std::vector<int32_t> tokens = m_loaded.tokenizer->encode(awq::test::fixtureCorpus().substr(0, 3000));
        const int64_t seqLen = 64;
        ReferenceDecoder decoder(*m_loaded.model);
        auto result = evaluatePerplexity(decoder, tokens, seqLen);
        const int64_t windows = static_cast<int64_t>(tokens.size()) / seqLen;
        QCOMPARE(result.windows, windows);
        double sum = 0;
        at::NoGradGuard noGrad;
        for (int64_t w = 0; w < windows; ++w) {
            std::vector<int64_t> ids(tokens.begin() + w * seqLen, tokens.begin() + (w + 1) * seqLen);
            auto logp = at::log_softmax(m_loaded.model->forward(at::tensor(ids).unsqueeze(0))[0].to(at::kDouble), -1);
            double nll = 0;
            for (int64_t t = 0; t + 1 < seqLen; ++t)
                nll -= logp[t][ids[t + 1]].item<double>();
            sum += nll / (seqLen - 1);
        }
        const double expected = std::exp(sum / windows);
        QVERIFY2(std::abs(result.perplexity - expected) < 1e-4 * expected,
                 (std::to_string(result.perplexity) + " vs " + std::to_string(expected)).c_str());
        // A random model is far from perfect but finite.
        QVERIFY(std::isfinite(result.perplexity) && result.perplexity > 1.0);
        // Too short a text is a clear error.
        try {
            evaluatePerplexity(decoder, std::vector<int32_t>(10, 3), seqLen);
            QFAIL("expected an error");
        } catch (const awq::Error &e) {
            QVERIFY(std::string(e.what()).find("10 tokens") != std::string::npos);
        }
    }
};

QTEST_APPLESS_MAIN(TestGeneration)
#include "tst_generation.moc"
