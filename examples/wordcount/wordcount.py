"""Word count: the 'hello world' of Spark.

Usage: wordcount.py INPUT [TOP]
Prints the TOP (default 20) most frequent words of INPUT, one 'word: count' per line.
"""

import sys
from operator import add

from pyspark.sql import SparkSession


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: wordcount.py INPUT [TOP]", file=sys.stderr)
        return 2
    path = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    spark = SparkSession.builder.appName("wordcount").getOrCreate()
    try:
        lines = spark.read.text(path).rdd.map(lambda row: row[0])
        counts = (
            lines.flatMap(lambda line: line.lower().split())
            .map(lambda word: (word.strip(".,;:!?\"'()"), 1))
            .filter(lambda pair: pair[0])
            .reduceByKey(add)
            .takeOrdered(top, key=lambda pair: (-pair[1], pair[0]))
        )
        for word, count in counts:
            print(f"{word}: {count}")
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
