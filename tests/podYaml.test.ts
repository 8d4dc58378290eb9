// A template's own `yaml` means in Jenkins what the program reads it as (policy/podYaml.ts): the
// kubernetes plugin's reader (Jackson over SnakeYAML's resolver) is neither YAML 1.2 nor all of
// YAML 1.1, so each kind of value where they part is tested, with the plugin's own test data for
// octal modes; what the plugin would misread is refused at preview, naming the key and the line.
import { parse } from "yaml";
import { readPodYaml } from "../policy/podYaml";
import { ConfigError } from "../config/reader";
import { settingsFrom } from "../config/settings";
import { runDefaults } from "./harness";

const value = (text: string) => (readPodYaml(`v: ${text}`).pod as { v: unknown }).v;

describe("values, as the plugin reads them", () => {
    it("octal file modes (kubernetes-plugin PodTemplateUtilsTest/octal.yaml and decimal.yaml): 0755 is 493", () => {
        const octal = readPodYaml(
            [
                "spec:",
                "  volumes:",
                "    - configMap: {name: cm1, defaultMode: 0755}",
                "      name: volume1",
                "    - secret: {secretName: secret1, defaultMode: 0744}",
                "      name: volume2",
                "    - projected:",
                "        sources:",
                "          - configMap: {name: cm2, items: [{key: username, path: my-group/my-username, mode: 0400}]}",
                "          - secret: {name: secret2, items: [{key: username, path: my-group/my-username, mode: 0600}]}",
                "        defaultMode: 0644",
                "      name: volume3",
            ].join("\n"),
        ).pod as any;
        const volumes = octal.spec.volumes;
        expect(volumes[0].configMap.defaultMode).toBe(493);
        expect(volumes[1].secret.defaultMode).toBe(484);
        expect(volumes[2].projected.defaultMode).toBe(420);
        expect(volumes[2].projected.sources.map((s: any) => (s.configMap ?? s.secret).items[0].mode)).toEqual([
            256, 384,
        ]);
        // What YAML 1.2 makes of it: a decimal 755, which the API server refuses as a mode.
        expect(parse("m: 0755").m).toBe(755);
    });

    it.each([
        ["yes", true],
        ["No", false],
        ["ON", true],
        ["off", false],
        ["true", true],
        ["FALSE", false],
        // SnakeYAML's resolver has no y and n (the YAML 1.1 spec and the yaml library do).
        ["y", "y"],
        ["N", "N"],
        ["tRUE", "tRUE"],
        ["0x1F", 31],
        ["0b101", 5],
        ["-012", -10],
        ["1_000", 1000],
        ["0", 0],
        ["1e3", 1000],
        ["1.5", 1.5],
        [".5", 0.5],
        ["-.inf", -Infinity],
        // Neither base 60 nor timestamps are typed by Jackson: text, as written.
        ["1:30", "1:30"],
        ["190:20:30", "190:20:30"],
        ["2024-01-01", "2024-01-01"],
        ["2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"],
        // Not octal (8 and 9), not decimal (a leading 0): text.
        ["089", "089"],
        ["0o755", "0o755"],
        ["~", null],
        ["null", null],
        ["", null],
        ['"yes"', "yes"],
        ["'0755'", "0755"],
    ])("%s is %p", (text, expected) => {
        expect(value(text)).toEqual(expected);
    });

    it("keys are text, whatever they look like", () => {
        expect(readPodYaml("metadata:\n  labels:\n    on: x\n    1: y\n    ~: z\n").pod).toEqual({
            metadata: { labels: { on: "x", "1": "y", "~": "z" } },
        });
    });

    it("an empty yaml, or one of comments only, is no change", () => {
        expect(readPodYaml("").pod).toEqual({});
        expect(readPodYaml("# nothing\n").pod).toEqual({});
    });
});

describe("what the plugin would misread, refused", () => {
    it.each([
        [
            "spec:\n  x: &mode 0755\n  y: *mode\n",
            "*mode",
            'line 3: the alias *mode is read by the kubernetes plugin as the text "mode" (its YAML reader does not resolve anchors); write the value out',
        ],
        [
            "spec:\n  <<: {hostNetwork: false}\n",
            "<<: {hostNetwork: false}",
            'line 2: a << merge key is not merged by the kubernetes plugin (it reads a field named "<<"); write the fields out',
        ],
        ["- a\n- b\n", "- a", "must be a mapping: a Pod, or the part of one to merge (spec:, metadata:), not a list"],
        [
            "spec: [a\n",
            "spec: [a",
            "line 1: not YAML the plugin can read: Flow sequence in block collection must be sufficiently indented and end with a ]",
        ],
    ])("%j", (text, line, message) => {
        const problems = readPodYaml(text).problems;
        expect(problems).toContainEqual({ line: line.replace(/^\*mode$/, "y: *mode"), message });
        expect(readPodYaml(text).pod).toBeUndefined();
    });

    it("at preview: the key, the line and why, for every template at once", () => {
        const templates = [
            { name: "a", labels: ["a"], yaml: "spec:\n  x: &m 1\n  y: *m\n" },
            { name: "b", labels: ["b"], yaml: "- not a pod\n" },
        ];
        let error: unknown;
        try {
            settingsFrom({ "jenkins-k8s:podTemplates": JSON.stringify(templates) });
        } catch (e) {
            error = e;
        }
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).problems).toEqual([
            'jenkins-k8s:podTemplates[0].yaml = "y: *m": line 3: the alias *m is read by the kubernetes plugin as the text "m" (its YAML reader does not resolve anchors); write the value out',
            'jenkins-k8s:podTemplates[1].yaml = "- not a pod": must be a mapping: a Pod, or the part of one to merge (spec:, metadata:), not a list',
        ]);
    });
});

describe("on the way to Jenkins", () => {
    it("the JCasC carries each value as the plugin reads the template's yaml, and reads back to the same", async () => {
        const yaml = [
            "metadata:",
            "  annotations:",
            '    quoted: "yes"',
            "    when: 2024-01-01",
            "    short: y",
            "spec:",
            "  hostNetwork: no",
            "  volumes:",
            "    - name: scripts",
            "      configMap: {name: s, defaultMode: 0755}",
        ].join("\n");
        const stack = await runDefaults({ podTemplates: [{ name: "x", labels: ["x"], yaml }] });
        const casc = parse(stack.casc);
        const template = casc.jenkins.clouds[0].kubernetes.templates.find((t: any) => t.name === "x");
        // The plugin reads the written yaml, as Jenkins will.
        const pod = readPodYaml(template.yaml).pod as any;
        expect(pod.spec.volumes.find((v: any) => v.name === "scripts").configMap.defaultMode).toBe(493);
        expect(pod.spec.hostNetwork).toBe(false);
        expect(pod.metadata.annotations).toMatchObject({ quoted: "yes", when: "2024-01-01", short: "y" });
    });
});
