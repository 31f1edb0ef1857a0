package decode

// Benchmarks for the text decoders, to compare a faster decoder against.

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func BenchmarkCSV(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("id,name,amount,ok,day\n")
	for i := range 200_000 {
		fmt.Fprintf(&buf, "%d,name %d,%d.25,true,2024-01-%02d\n", i, i, i, i%28+1)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		_, err := Decode(context.Background(), &memObject{name: "x.csv", data: data}, Options{CSV: CSVOptions{Header: true}}, func(arrow.RecordBatch) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJSON(b *testing.B) {
	var buf bytes.Buffer
	for i := range 200_000 {
		fmt.Fprintf(&buf, `{"id":%d,"name":"name %d","amount":%d.25,"ok":true,"day":"2024-01-%02d"}`+"\n", i, i, i, i%28+1)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		_, err := Decode(context.Background(), &memObject{name: "x.json", data: data}, Options{}, func(arrow.RecordBatch) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
	}
}
