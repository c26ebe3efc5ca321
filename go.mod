module github.com/porthole/porthole

go 1.26.8
