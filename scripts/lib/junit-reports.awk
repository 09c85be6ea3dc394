# scripts/lib/junit-reports.awk: reads surefire/failsafe XML reports (TEST-*.xml) and prints
#   skip<TAB>Class.method<TAB>reason     for each skipped test: the reason is the skip's message, or the first line of
#                                        its trace without JUnit's prefixes
#   total<TAB>tests<TAB>failed<TAB>skipped   last, summed over every suite (failed counts errors too)
# Used by scripts/test:  awk -f scripts/lib/junit-reports.awk */target/*-reports/TEST-*.xml

function attr(line, name,   m) {
    if (match(line, " " name "=\"[^\"]*\"")) { m = substr(line, RSTART + length(name) + 3, RLENGTH - length(name) - 4); return m }
    return ""
}
function unxml(s) {
    gsub(/&quot;/, "\"", s); gsub(/&apos;/, "\047", s); gsub(/&lt;/, "<", s); gsub(/&gt;/, ">", s); gsub(/&amp;/, "\\&", s)
    return s
}
/<testsuite / { tests += attr($0, "tests"); fail += attr($0, "failures") + attr($0, "errors"); skip += attr($0, "skipped") }
/<testcase / { cls = attr($0, "classname"); sub(/.*\./, "", cls); name = attr($0, "name") }
/<skipped/ {
    reason = attr($0, "message")
    if (reason == "") { reason = $0; sub(/.*<!\[CDATA\[/, "", reason); sub(/\]\]>.*/, "", reason) }
    reason = unxml(reason)
    sub(/^org\.opentest4j\.TestAbortedException: /, "", reason); sub(/^Assumption failed: /, "", reason)
    if (reason == "" || reason ~ /^<skipped/) reason = "(no reason given)"
    printf "skip\t%s.%s\t%s\n", cls, name, reason
}
END { printf "total\t%d\t%d\t%d\n", tests, fail, skip }
