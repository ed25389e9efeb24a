using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace StaticGrad.Samples.TinyGpt;

/// <summary>
/// The model's vocabulary: the 65 characters of Tiny Shakespeare, in nanoGPT's order (sorted by code point), so id 0 is
/// the newline and id 64 is <c>z</c>. The number of classes is compiled into <see cref="TinyGpt"/>; any other text is
/// folded onto these characters (see <see cref="Encode"/>).
/// </summary>
public static class Alphabet
{
    /// <summary>The characters, id by id: newline, space, <c>!$&amp;',-.3:;?</c>, A–Z, a–z.</summary>
    public const string Characters = "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary>What a character that has no equivalent in <see cref="Characters"/> becomes.</summary>
    public const char Fallback = ' ';

    private static readonly int[] Ids = BuildIds();

    /// <summary>The number of characters (65).</summary>
    public static int Count => Characters.Length;

    /// <summary>
    /// The ids of <paramref name="text"/>, after folding: line ends become <c>\n</c>; accents are dropped and compatibility
    /// forms decomposed (Unicode NFKD: <c>é</c> → <c>e</c>, <c>…</c> → <c>...</c>); double and typographic quotes become
    /// <c>'</c>, dashes <c>-</c>, tabs and other white space a space; every other character becomes <see cref="Fallback"/>.
    /// </summary>
    /// <param name="text">Any text.</param>
    /// <param name="replaced">The characters of the folded text that were not in the alphabet, with how often each occurred.</param>
    /// <returns>One id per character of the folded text.</returns>
    public static int[] Encode(string text, out Dictionary<string, int> replaced)
    {
        ArgumentNullException.ThrowIfNull(text);
        string folded = Fold(text);
        var ids = new List<int>(folded.Length);
        replaced = new Dictionary<string, int>();
        for (int i = 0; i < folded.Length; i++)
        {
            char c = folded[i];
            if (c < Ids.Length && Ids[c] >= 0)
            {
                ids.Add(Ids[c]);
                continue;
            }

            // A surrogate pair (an emoji, say) is one character: replaced once.
            bool pair = char.IsHighSurrogate(c) && i + 1 < folded.Length && char.IsLowSurrogate(folded[i + 1]);
            string key = folded.Substring(i, pair ? 2 : 1);
            replaced[key] = replaced.GetValueOrDefault(key) + 1;
            ids.Add(Ids[Fallback]);
            i += pair ? 1 : 0;
        }

        return ids.ToArray();
    }

    /// <summary>The character of each id.</summary>
    /// <param name="ids">Ids from 0 to <see cref="Count"/> − 1.</param>
    /// <returns>The text.</returns>
    public static string Decode(ReadOnlySpan<int> ids)
    {
        var text = new StringBuilder(ids.Length);
        foreach (int id in ids)
        {
            text.Append(Characters[id]);
        }

        return text.ToString();
    }

    private static string Fold(string text)
    {
        string decomposed = text.ReplaceLineEndings("\n").Normalize(NormalizationForm.FormKD);
        var folded = new StringBuilder(decomposed.Length);
        foreach (char c in decomposed)
        {
            switch (CharUnicodeInfo.GetUnicodeCategory(c))
            {
                case UnicodeCategory.NonSpacingMark:
                case UnicodeCategory.EnclosingMark:
                case UnicodeCategory.SpacingCombiningMark:
                case UnicodeCategory.Format:
                    continue; // accents and invisible marks (a byte-order mark, soft hyphens)
                case UnicodeCategory.InitialQuotePunctuation:
                case UnicodeCategory.FinalQuotePunctuation:
                    folded.Append('\'');
                    continue;
                case UnicodeCategory.DashPunctuation:
                    folded.Append('-');
                    continue;
            }

            folded.Append(c switch
            {
                '\n' => '\n',
                '"' or '`' or '´' => '\'',
                _ when char.IsWhiteSpace(c) => ' ',
                _ => c,
            });
        }

        return folded.ToString();
    }

    private static int[] BuildIds()
    {
        var ids = new int[128];
        Array.Fill(ids, -1);
        for (int id = 0; id < Characters.Length; id++)
        {
            ids[Characters[id]] = id;
        }

        return ids;
    }
}
