// A template's own `yaml`, read as the kubernetes plugin reads it, so the program merges, checks
// and writes the values Jenkins will see.
//
// The plugin parses it with Jackson's YAML reader (PodTemplateUtils.parseFromYaml →
// Serialization2.unmarshal, kubernetes-plugin 4208+: "to support octal notation", JENKINS-71956),
// jackson-dataformat-yaml 2.18 over SnakeYAML 2.3. A plain scalar gets the type SnakeYAML's
// Resolver gives it, then Jackson decodes it (YAMLParser._decodeScalar): that is YAML 1.1, but not
// all of it, and not the YAML 1.2 the `yaml` library reads by default:
//   - `yes`, `no`, `on`, `off` (any of three cases) are booleans; `y` and `n` are not (Resolver.BOOL);
//   - `0755` is octal (493), and `0b`/`0x`/`_` digits count (Resolver.INT, _decodeNumberScalar);
//   - base-60 `1:30` and timestamps `2024-01-01` stay text (Jackson types neither);
//   - an alias `*a` is read as the text `a` (YAMLParser: "for now, nothing to do"), so a `<<`
//     merge of an anchor never merges; both are refused here rather than passed on;
//   - keys are always text; `~`, `null` and an empty value are null.
// Quoted scalars are text in both. The program writes the merged pod back as YAML 1.1 with every
// ambiguous string quoted (jcasc.ts), which the plugin reads back to the same values.
import { isAlias, isPair, isScalar, LineCounter, parseDocument, Scalar, ScalarTag, Tags, visit } from "yaml";

type Obj = Record<string, unknown>;

const TAG = "tag:yaml.org,2002:";

/** SnakeYAML's Resolver.BOOL, decoded as Jackson's _matchYAMLBoolean does. */
const boolTag: ScalarTag = {
    tag: `${TAG}bool`,
    default: true,
    identify: (v) => typeof v === "boolean",
    test: /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
    resolve: (s) => /^(?:yes|true|on)$/i.test(s),
};

/** SnakeYAML's Resolver.NULL and EMPTY (Jackson's EMPTY_STRING_AS_NULL is on by default). */
const nullTag: ScalarTag = {
    tag: `${TAG}null`,
    default: true,
    identify: (v) => v === null || v === undefined,
    test: /^(?:~|null|Null|NULL)?$/,
    resolve: () => new Scalar(null),
};

/**
 * SnakeYAML's Resolver.INT without base 60, which Jackson's _decodeNumberScalar hands on as text.
 * A leading 0 then a digit or `_` is octal; `0b` binary, `0x` hex; `_` is dropped.
 */
const intTag: ScalarTag = {
    tag: `${TAG}int`,
    default: true,
    identify: (v) => typeof v === "number" && Number.isInteger(v),
    test: /^(?:[-+]?0b_*[0-1][0-1_]*|[-+]?0_*[0-7][0-7_]*|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x_*[0-9a-fA-F][0-9a-fA-F_]*)$/,
    resolve: (s) => {
        const sign = s.startsWith("-") ? -1 : 1;
        const digits = s.replace(/^[-+]/, "").replace(/_/g, "");
        const [base, rest] = /^0b/i.test(digits)
            ? [2, digits.slice(2)]
            : /^0x/i.test(digits)
              ? [16, digits.slice(2)]
              : digits.length > 1 && digits.startsWith("0")
                ? [8, digits.slice(1)]
                : [10, digits];
        return sign * Number.parseInt(rest, base);
    },
};

/** SnakeYAML's Resolver.FLOAT without base 60; Jackson's _cleanYamlFloat drops `_`. */
const floatTag: ScalarTag = {
    tag: `${TAG}float`,
    default: true,
    identify: (v) => typeof v === "number",
    test: /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+|[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
    resolve: (s) => {
        const clean = s.replace(/_/g, "");
        if (/\.(?:inf)$/i.test(clean)) return clean.startsWith("-") ? -Infinity : Infinity;
        if (/^\.nan$/i.test(clean)) return NaN;
        return Number.parseFloat(clean);
    },
};

const OPTIONS = {
    schema: "failsafe",
    customTags: (tags: Tags): Tags => [...tags, nullTag, boolTag, intTag, floatTag],
    stringKeys: true,
    merge: false,
    prettyErrors: false,
} as const;

export interface PodYaml {
    /** The pod (or its fragment) as Jenkins reads it; undefined when there are problems. */
    pod?: Obj;
    /** What the plugin would not read as written: the source line, and why. */
    problems: { line: string; message: string }[];
}

/** The template's `yaml` as the kubernetes plugin reads it, or each reason it would not read it as written. */
export function readPodYaml(text: string): PodYaml {
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { ...OPTIONS, lineCounter });
    const lines = text.split("\n");
    // The line at an offset; at the end of the text (an unclosed bracket), the last line with text.
    const at = (offset: number) => {
        let { line } = lineCounter.linePos(offset);
        while (line > 1 && (lines[line - 1] ?? "").trim() === "") line--;
        return { number: line, text: (lines[line - 1] ?? "").trim() };
    };
    const problems: PodYaml["problems"] = [];
    for (const error of doc.errors) {
        const where = at(error.pos[0]);
        problems.push({
            line: where.text,
            message: `line ${where.number}: not YAML the plugin can read: ${error.message.split("\n")[0]}`,
        });
    }
    if (problems.length > 0) return { problems };
    visit(doc, {
        Alias(_, node) {
            const where = at(node.range?.[0] ?? 0);
            problems.push({
                line: where.text,
                message: `line ${where.number}: the alias *${node.source} is read by the kubernetes plugin as the text "${node.source}" (its YAML reader does not resolve anchors); write the value out`,
            });
        },
        Pair(_, pair) {
            if (isPair(pair) && isScalar(pair.key) && pair.key.value === "<<" && pair.key.type === "PLAIN") {
                const where = at(pair.key.range?.[0] ?? 0);
                problems.push({
                    line: where.text,
                    message: `line ${where.number}: a << merge key is not merged by the kubernetes plugin (it reads a field named "<<"); write the fields out`,
                });
            }
        },
    });
    const value: unknown = doc.contents === null || isAlias(doc.contents) ? null : doc.toJS();
    if (value !== null && (typeof value !== "object" || Array.isArray(value))) {
        problems.push({
            line: (lines.find((l) => l.trim() !== "" && !l.trim().startsWith("#")) ?? "").trim(),
            message: `must be a mapping: a Pod, or the part of one to merge (spec:, metadata:), not ${Array.isArray(value) ? "a list" : `the ${typeof value} ${JSON.stringify(value)}`}`,
        });
    }
    return problems.length > 0 ? { problems } : { pod: (value as Obj | null) ?? {}, problems };
}
