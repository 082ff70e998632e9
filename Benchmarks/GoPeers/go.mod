module sluice/gopeers

go 1.19
