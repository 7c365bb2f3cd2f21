# SPDX-License-Identifier: BSD-2-Clause
# embed.awk: turns a text file into a C string constant.
#   awk -f embed.awk -v name=SYMBOL FILE > out.c
BEGIN { print "/* generated from a file in web/static by embed.awk; do not edit */"; printf "const char %s[] =\n", name }
{
	line = $0
	gsub(/\\/, "\\\\", line)
	gsub(/"/, "\\\"", line)
	gsub(/\t/, "\\t", line)
	printf "\t\"%s\\n\"\n", line
	total += length($0) + 1
}
END { print ";"; printf "const unsigned long %s_len = sizeof(%s) - 1;\n", name, name }
